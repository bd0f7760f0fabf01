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
# about 7, measured per position to control for mean-pooling artifacts. This chapter tests presence
# and absence each against the initialised network, the paired difference between the two chains
# per seed, on both chain families and under isolated masking, and ties the task-relevant dimension
# to the chain's spectrum (ours).

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
from rgnb.mlp import findings, measure, registry, shipped, sweeps, tables

# %% [markdown]
# ## Method (verdicts v3)
#
# Representations as in the previous chapter: per position, masked rows only, $\mathrm{LN}(h^l)$.
# The **normalised collapse** of a network is $c = \operatorname{erank}(L)/\operatorname{erank}(1)$,
# normalised by layer 1 of the same network ($h^0$ is constant on masked rows and never a baseline).
# The claims, registered in `rgnb.mlp.registry` before this execution, are contrasts of $c$ paired
# by seed: the trained network minus the same network at initialisation, and minus the network of
# the same seed trained on a shuffled chain, probed on the same sequences; 95 % intervals invert an
# exact sign-flip test over the seeds. The margin is 0.05 (5 % of the layer-1 dimension):
#
# - *present at $\xi\approx 1$* (a presence claim): both contrasts below $-0.05$;
# - *absent at $\xi\approx 7$* (an absence claim): both contrasts within $\pm 0.05$ by two one-sided
#   tests, **and** a positive control: the same test must detect the collapse where the paper says it
#   is present (the initialisation contrast at $\xi\approx 1$). Without it, "absent" could mean only
#   that the test cannot see anything; then the verdict is "vacuous test" or "inconclusive:
#   underpowered".
#
# The primary configuration is potts with span masking; the ring chain and isolated masking are
# sub-rows. The v2 row "selective" ($c(\xi\approx 7) - c(\xi\approx 1)$) is gone: it was the
# difference of the two rows above, not a separate claim.

# %% tags=["nbval-ignore-output"]
results = sweeps.reading(shipped.load_profile(run.profile, run.device))  # the main reading: mixer with LayerNorm
meas = measure.measure_profile(results)
xi1, xi7 = measure.paper_xis(results["potts"].config.xis)
L = max(results["potts"].config.depths)

# %% [markdown]
# ## Collapse against correlation length
#
# {numref}`fig-selectivity` shows the normalised collapse $c$ over the grid of correlation lengths,
# trained against initialised networks, for each sweep; the shuffled-chain networks measured on the
# potts probes are the grey band.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-selectivity", "caption": "Normalised collapse c = erank(L)/erank(1) of LN(h), masked rows, against the correlation length: trained (solid) and the same networks at initialisation (dashed), mean over seeds with Student-t 95 % bars; grey: networks trained on a shuffled chain, on the potts probes."}}
fams = [f for f in ("potts", "ring", "potts-isolated") if f in results]
fig, axes = plots.subplots(ncols=len(fams), width=3.3, height=2.8, sharey=True)
for ax, fam in zip(axes[0], fams):
    xis = results[fam].config.xis
    for stage, ls, color in (("trained", "-", "C0"), ("init", "--", "C7")):
        iv = [metrics.seed_ci(findings.collapse_by_seed(meas, fam, xi, stage)) for xi in xis]
        est = np.array([i.estimate for i in iv])
        plots.interval_errorbar(ax, xis, est, [i.low for i in iv], [i.high for i in iv], fmt="o" + ls, color=color,
                                capsize=3, label=stage)
    if "shuffled" in results and fam != "ring":
        for xi in (xi1, xi7):
            c = metrics.seed_ci(findings.collapse_by_seed(meas, "shuffled", None, probe=measure.on_chain("potts", xi)))
            plots.interval_errorbar(ax, xi, c.estimate, c.low, c.high, fmt="s", color="0.5",
                                    capsize=3, label="shuffled chain" if xi == xi1 else None)
    ax.set(xscale="log", title=fam, xlabel="correlation length $\\xi$")
    ax.set_xticks(xis, [f"{x:g}" for x in xis])
    ax.minorticks_off()
axes[0, 0].set_ylabel("$c$ = erank($L$) / erank(1)")
axes[0, 0].legend()
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
# Rows computed by `rgnb.mlp.findings.selectivity_rows` from the registered claims;
# {numref}`fig-selectivity-forest` draws each contrast in units of its margin.

# %% tags=["remove-input"]
rows = findings.selectivity_rows(meas, run.profile)
claims.record(run, rows, specs=registry.FINDINGS + (registry.RELEVANCE_GAIN,))

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-selectivity-forest", "caption": "The contrasts of finding (ii) and of the relevance gain with their exact sign-flip 95 % intervals, in units of the registered margin (0.05 in c; the gain's margin is 0, drawn in its own units), signed so that the claim's side is positive; shaded: the equivalence band of the absence claim; colour: the verdict."}}
fig, ax = plots.forest(rows)
plt.show()

# %% [markdown]
# ## Protocol history
#
# Derived marks come from `results/claims_history.json`. Protocol v1 stored results for these
# findings ("collapse absent at $\xi\approx 7$" passed at initialisation too); protocol v2 was
# written after them, so the P1 rows are post hoc. The spectral-relevance slope was found vacuous on
# the stored networks and replaced by the gain test, post hoc. Verdicts v3 (after the v2 ledger, the
# same rule for every claim) made the tests paired contrasts against both nulls, turned "absent"
# into an equivalence test with a positive control, and removed the "selective" rows.
