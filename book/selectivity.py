# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Finding (ii): is the collapse selective?
#
# The second finding of the rank-collapse paper {cite}`rankcollapse2026`: the collapse is
# *selective*, present for chains of correlation length about 1 and absent for correlation length
# about 7, measured per position to control for mean-pooling artifacts. Training on *any* chain
# narrows the stream against initialisation, so what the paper's "absent" can mean is: no more loss
# of dimensions than training alone causes. This chapter measures it against networks trained on a
# chain without correlations (the shuffled chain), paired by seed, on every shape of the P1 scan,
# and ties the task-relevant dimension to the chain's spectrum (ours).

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("selectivity", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
import numpy as np
from IPython.display import Markdown, display
from matplotlib import pyplot as plt

from rgnb import claims, metrics, plots
from rgnb.mlp import evidence, findings, measure, registry, scan, shipped, shipped_measurements, sweeps, tables

# %% [markdown]
# ## Method (protocol v3)
#
# Representations as in the previous chapter: per position, masked rows only, $\mathrm{LN}(h^l)$,
# on the P1 scan (five shapes: $L \in \{4, 8, 16\}$ at $V = 8$ and $V \in \{4, 16\}$ at $L = 8$), each seed on
# its own probe sequences shared by the nulls paired with it. The **collapse** of a network is
# $\log c$, $c = \operatorname{erank}(L)/\operatorname{erank}(1)$: normalised by layer 1 of the same
# network, since the claim is about depth and the shapes differ in $\operatorname{erank}(1)$, and on
# the log scale, where a ratio's interval stays on its support. The margin is $\log(1/0.95)$, a 5 %
# loss of the layer-1 dimension. The claims, registered in `rgnb.mlp.registry` before any scan
# network was measured, are contrasts paired by seed with exact sign-flip 95 % intervals, pooled
# over the five shapes (each shape, the ring chain and isolated masking are sub-rows):
#
# - *present at $\xi\approx 1$* (`P1-ii-present-v3`): $\log c$ of the trained network minus that of
#   the same network at initialisation, and minus that of the shuffled-chain network; both below
#   the margin.
# - *absent at $\xi\approx 7$* (`P1-ii-absent-v3`): the contrast with the shuffled-chain network
#   within the margin by two one-sided tests, **and** a positive control: the same contrast at
#   $\xi\approx 1$, where the paper says collapse is present, must be detected. Pooling the five
#   shapes gives the equivalence test its power.
# - *selective* (`P1-ii-selective`): the difference in differences, [$\log c(\xi\approx 1) - \log
#   c(\xi\approx 7)$] of the chain network minus the same difference of the shuffled-chain network.
# - *dose-response* (`ours-ii-dose-response`): per seed, the slope of the chain-minus-shuffled
#   contrast on $\log\xi$ over the main shape's grid; the claim is its sign.

# %% tags=["nbval-ignore-output"]
results = sweeps.reading(shipped.load_profile(run.profile, run.device))  # the main reading: mixer with LayerNorm
scan_results = shipped.load_scan_profile(run.profile, run.device)
measured = evidence.measure_all(results, scan_results, shipped_dir=shipped_measurements.default_directory(run.profile))
main = measured.main
meas = measure.measure_profile(results)  # the relevance study's measurements (all chains, shared probes)

# %% [markdown]
# ## Collapse against correlation length
#
# {numref}`fig-selectivity` shows $\log c$ over the main shape's grid of correlation lengths for the
# networks trained on each chain, the same networks at initialisation, and the shuffled-chain
# networks measured on the same probes: the distance between the solid and the dotted line is what
# the chain adds to training.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-selectivity", "caption": "log c = log(erank(L) / erank(1)) of LN(h), masked rows, against the correlation length at the main shape: networks trained on the chain (solid), the same networks at initialisation (dashed), networks trained on the shuffled chain on the same probes (dotted); mean over seeds with Student-t 95 % bars. Left: potts; right: the ring chain."}}
configs = [measured.shapes[main]] + [v for v in measured.variants if v.family == "ring"]
fig, axes = plots.subplots(ncols=len(configs), width=3.4, height=2.8, sharey=True)
for ax, config in zip(axes[0], configs):
    for arm in scan.ARM_STYLE:
        label, ls, color = scan.ARM_STYLE[arm]
        xis, ivs = scan.xi_series(config.measurements, "log_c", arm)
        plots.interval_errorbar(ax, xis, [i.estimate for i in ivs], [i.low for i in ivs], [i.high for i in ivs],
                                fmt="o", linestyle=ls, color=color, capsize=3, label=label)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xscale="log", title=config.family, xlabel="correlation length $\\xi$")
    ax.set_xticks(xis, [f"{x:g}" for x in xis])
    ax.minorticks_off()
axes[0, 0].set_ylabel("$\\log c$")
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", frameon=False)
plt.show()

# %% [markdown]
# ## Across the scan
#
# {numref}`fig-selectivity-scan` shows $\log c$ at both chains of the paper for every shape.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-selectivity-scan", "caption": "log c per shape at xi ~ 1 (top) and xi ~ 7 (bottom), against depth at V = 8 (left) and vocabulary at depth 8 (right): trained on the chain, at initialisation, trained on the shuffled chain on the same probes; mean over seeds with a Student-t 95 % interval; the grey bar marks the main shape."}}
fig = scan.draw_scan(measured.measured, (("log_c", evidence.XI_SHORT), ("log_c", evidence.XI_LONG)), main)
plt.show()

# %% [markdown]
# ## Spectral relevance (ours)
#
# Which of a chain's modes matter for the task? A mode $k$ with eigenvalue $\lambda_k$ carries
# information about a masked token from a visible one at distance $s$ in proportion to
# $|\lambda_k|^s$; we call it relevant when $|\lambda_k|^s > e^{-1}$, with $s$ the mean distance from
# a masked token to its nearest visible one. The Potts family has one degenerate eigenvalue, so its
# count jumps from 0 to $V-1$; the ring has several distinct $|\lambda_k|$, so the count grows with
# $\xi$ one mode pair at a time. If the trained network keeps what the task needs, its
# **task-relevant dimension** at the last layer (the smallest rank of a linear probe on
# $\mathrm{LN}(h^L)$, masked rows, whose held-out loss is within 0.01 nats of the full-rank probe)
# should grow with that count ({numref}`fig-spectral-relevance`, left). The test stated before the
# reference networks were measured: the least-squares slope over networks of both families and the
# $\xi$ grid, Student-t 95 % interval, above 0; null: the same networks at initialisation.
#
# On the stored reference networks **that test was found vacuous** (in the v2 ledger): the
# initialised networks pass it too (the grey points). At initialisation the network passes context
# on, and a longer-range chain has more of it to pass on, so the probe's dimension grows with the
# count whatever training does. We replaced the test, **post hoc**
# (chosen after seeing that result), by one on *what training adds*
# ({numref}`fig-spectral-relevance`, right):
#
# - per chain (family, $\xi$) and seed, the task-relevant dimension of the trained network minus
#   that of the same network at initialisation;
# - per seed, a least-squares fit of that gain over the chains on $[1, x, \log\xi]$, with $x$ the
#   number of relevant modes; its $x$ coefficient is the effect of the relevant modes *at fixed
#   correlation length* (the potts and ring chains at equal $\xi$ have different counts, which is
#   what separates the two);
# - the mean of the coefficient over seeds, above 0, with an exact sign-flip interval over seeds
#   (the independent units); registered as `ours-spectral-relevance-gain`, which replaces the
#   vacuous row (the history marks it post hoc).
#
# Null control: the networks trained on the shuffled chain, each probed on every chain and measured
# the same way (same seeds, same design, same subtraction; initialised, a shuffled network *is* the
# chain network of its seed). They were trained with the same budget but had no context to learn: if
# their coefficient were positive too, the effect would come from training as such (or from the
# probe), not from learning the chain's modes.
#
# This study predates protocol v3 and keeps its measurements: one probe set per chain, shared by
# every seed and by the null (so the contrast is paired on the same sequences), but the interval
# over seeds does not include probe sampling. The row is ours and post hoc either way.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-spectral-relevance", "caption": "Left: task-relevant dimension of LN(h^L) against the number of chain modes relevant at the task's scale (|lambda_k|^s > 1/e), one point per network (jittered), trained (blue) and at initialisation (grey), with the least-squares lines (the pre-stated test). Right: what training adds (trained minus initialised), mean over seeds per chain with Student-t 95 % bars, for the networks trained on each chain (blue; circles potts, squares ring) and for those trained on the shuffled chain, probed on the same chains (red)."}}
rel, rel0 = findings.spectral_relevance(meas), findings.spectral_relevance(meas, "init")
gain, gain_null = findings.relevance_gain(meas), findings.relevance_gain(meas, "shuffled")
fig, axes = plots.panels(2, max_cols=2, height=3.0)
ax = axes[0]
jitter = np.resize(np.linspace(-0.15, 0.15, 10), rel["x"].size)
for data, color, name in ((rel0, "0.6", "initialisation"), (rel, "C0", "trained")):
    if data["x"].size == 0:
        continue
    ax.scatter(data["x"] + jitter, data["y"], s=10, color=color, label=name)
    if data["slope"] is not None:
        xs = np.linspace(data["x"].min(), data["x"].max(), 2)
        ax.plot(xs, data["y"].mean() + data["slope"].estimate * (xs - data["x"].mean()), color=color)
ax.set(xlabel=f"relevant modes at $s = {meas.scale:.2f}$", ylabel="task-relevant dimension, layer $L$")
ax.legend()
ax = axes[1]
for data, color, shift, name in ((gain, "C0", -0.12, "trained on the chain"),
                                 (gain_null, "C3", 0.12, "trained on the shuffled chain")):
    for j, (fam, xi, x) in enumerate(data["cells"]):
        if data["gain"].shape[0] < 2:
            continue
        ci = metrics.seed_ci(data["gain"][:, j])
        plots.interval_errorbar(ax, x + shift, ci.estimate, ci.low, ci.high,
                                fmt="o" if fam == "potts" else "s", color=color, capsize=2,
                                label=name if j == 0 else None)
ax.axhline(0, color="k", lw=0.5)
ax.set(xlabel=f"relevant modes at $s = {meas.scale:.2f}$", ylabel="trained minus initialised")
ax.legend()
plt.show()

# %% tags=["remove-input"]
Markdown(tables.relevance_markdown(meas, gain, gain_null))

# %% tags=["remove-input"]
if gain["slope"] is not None and gain_null["slope"] is not None:
    difference = findings.relevance_gain_difference(gain, gain_null)
    display(Markdown(
        f"Per relevant mode at fixed correlation length, training on the chain adds {gain['slope'].format(3)} task "
        f"dimensions; training on the shuffled chain, probed on the same chains, {gain_null['slope'].format(3)} "
        f"(Student t over {difference.n} seeds). Under verdicts v3 the paired difference is the gain claim's "
        "shuffled-chain contrast (its row below, with an exact sign-flip interval); the claim stays post hoc."))

# %% [markdown]
# ## Verdict
#
# Rows computed by `rgnb.mlp.evidence.protocol_v3_rows` and `rgnb.mlp.findings.relevance_rows` from
# the registered claims; {numref}`fig-selectivity-forest` draws each contrast in units of its margin.

# %% tags=["remove-input"]
rows = evidence.chapter_rows(evidence.protocol_v3_rows(measured, run.profile), "selectivity")
rows += findings.relevance_rows(meas, run.profile)
claims.record(run, rows, specs=registry.PROTOCOL_V3 + (registry.RELEVANCE_GAIN,))

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-selectivity-forest", "caption": "The contrasts of finding (ii), the dose response and the relevance gain with their exact sign-flip 95 % intervals, in units of the registered margin (a margin of 0 drawn in its own units), signed so that the claim's side is positive; shaded: the equivalence band of the absence claim, its positive control drawn below; colour: the verdict."}}
fig, ax = plots.forest(rows)
plt.show()

# %% [markdown]
# ## What was found
#
# Computed from the rows above (`rgnb.claims.findings_markdown`):

# %% tags=["remove-input"]
Markdown(claims.findings_markdown(rows))

# %% [markdown]
# ## Protocol history
#
# Derived marks come from `results/claims_history.json`. Protocol v1 stored results for these
# findings ("collapse absent at $\xi\approx 7$" passed at initialisation too); protocol v2 was
# written after them. Verdicts v3 made the tests paired contrasts against both nulls and turned
# "absent" into an equivalence test with a positive control. Protocol v3 (this chapter) was written
# after a review of that ledger showed that the reference decided the verdict: against
# initialisation the collapse at $\xi\approx 7$ is "present" because training on any chain narrows
# the stream. It registered the shuffled-chain networks as the reference of "absent", the log scale,
# pooling over the scan for power, the difference in differences and the dose response; the rows
# that replace v2 rows are post hoc. The spectral-relevance slope was found vacuous on the stored
# networks and replaced by the gain test, post hoc.
