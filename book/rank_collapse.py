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
# # Finding (i): does the effective rank fall with depth?
#
# The first finding of the rank-collapse paper {cite}`rankcollapse2026` is that, after training, the
# effective rank of the residual stream of an MLP residual network *decreases monotonically with
# depth*. This chapter measures it on the networks of the training chapter, which passed the
# convergence gate (the premise), with the book's **protocol v2**, and tests it against two null
# controls: the same networks at initialisation, and networks trained on a shuffled chain.

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("rank_collapse", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
import numpy as np
from IPython.display import Markdown
from matplotlib import pyplot as plt

from rgnb import claims, metrics, plots
from rgnb.mlp import findings, measure, registry, shipped, sweeps

# %% [markdown]
# ## Method (protocol v2)
#
# **Which rows.** Only masked positions carry the loss, so representations are measured **per
# position, on masked rows only**: for each position $t$, the rows $h^l_{n,t,:}$ of the probe
# sequences $n$ whose token $t$ is masked; the measure is averaged over positions. Visible rows
# would mix in what the network does with tokens it can see.
#
# **Which stream.** $\mathrm{LN}(h^l)$, the normalised stream the next block reads (per-row
# standardisation, without the learned gain), and the raw $h^l$, for $l \ge 1$. $h^0$ is shown but
# never a baseline: on masked rows every row of $h^0_{:,t,:}$ is the same vector (the mask
# embedding plus the position embedding), so its dimension is 0 whatever the network learned.
#
# **Dimension measures.** For the masked rows of one position, centred over the rows (the mean
# row is removed, so the measures describe the spread of the representation, not its offset), with
# singular values $s_i$: the effective rank $\exp(-\sum_i p_i \log p_i)$, $p_i = s_i/\sum_j s_j$
# {cite}`roy2007erank`; the participation ratio $(\sum s_i^2)^2/\sum s_i^4$; and the number of
# principal components that hold 90 % of the variance (scale-aware: it ignores a long tail of small
# directions). The paper defines the effective rank on the matrix as given; centring is our choice.
#
# **The test** (verdicts v3, registered in `rgnb.mlp.registry` before this execution): per seed,
# Spearman's $\rho(l, \dim(l))$ over $l = 1..L$, and two paired contrasts: the trained network minus
# the same network at initialisation, and minus the network of the same seed trained on a shuffled
# chain, probed on the same sequences. Each contrast's 95 % interval inverts an exact sign-flip test
# over the seeds. The claim is reproduced when both contrasts lie below $-0.3$ (a "medium"
# correlation; the paper states a fall, not its size). The primary configuration is potts at
# $\xi\approx 1$ with span masking; the ring chain, the raw stream, the PCs for 90 % and isolated
# masking are sub-rows, shown but not counted.

# %% tags=["nbval-ignore-output"]
results = sweeps.reading(shipped.load_profile(run.profile, run.device))  # the main reading: mixer with LayerNorm
meas = measure.measure_profile(results)
xi1, xi7 = measure.paper_xis(results["potts"].config.xis)
L = max(results["potts"].config.depths)
print({f: len(r) for f, r in results.items()}, "networks; chains xi =", results["potts"].config.xis, "; depth", L)

# %% [markdown]
# ## Effective rank through the stack
#
# {numref}`fig-rank-profile` shows the effective rank of $\mathrm{LN}(h^l)$ on masked rows, per
# layer, for the trained networks (solid), the same networks at initialisation (dashed) and the
# networks trained on the shuffled chain, measured on the same probe sequences (dotted), at the two
# chains of the paper and both chain families.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rank-profile", "caption": "Effective rank of LN(h^l) per position on masked rows, mean over seeds with a Student-t 95 % band: trained (solid), the same networks at initialisation (dashed), networks trained on a shuffled chain (dotted, potts probes only). h^0 is shown at 0: its masked rows are all the same vector."}}
fig, axes = plots.subplots(ncols=4, width=3.0, height=2.7, sharey=True)
layers = np.arange(L + 1)
panels = [("potts", xi1), ("potts", xi7), ("ring", xi1), ("ring", xi7)]
for ax, (fam, xi) in zip(axes[0], panels):
    if fam not in results:
        ax.set_visible(False)
        continue
    for stage, ls, color in (("trained", "-", "C0"), ("init", "--", "C7")):
        mean, lo, hi = metrics.seed_band(meas.get(fam, "erank_ln", stage, xi))
        plots.band(ax, layers, mean, lo, hi, label=stage, linestyle=ls, color=color)
    if fam == "potts" and "shuffled" in results:
        mean, lo, hi = metrics.seed_band(meas.get("shuffled", "erank_ln", "trained", probe=measure.on_chain("potts", xi)))
        plots.band(ax, layers, mean, lo, hi, label="shuffled chain", linestyle=":", color="C3")
    ax.set(title=f"{fam}, $\\xi={xi:g}$", xlabel="layer $l$", xticks=layers)
axes[0, 0].set_ylabel("erank of LN($h^l$), masked rows")
axes[0, 0].legend()
plt.show()

# %% [markdown]
# The other dimension measures of the same networks (potts, $\xi\approx 1$), in
# {numref}`fig-rank-measures`: the effective rank of the raw stream $h^l$, the participation
# ratio and the PCs for 90 % of the variance of $\mathrm{LN}(h^l)$.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rank-measures", "caption": "Other dimension measures on masked rows (potts, xi ~ 1): erank of raw h^l, participation ratio and PCs for 90 % of the variance of LN(h^l); trained (solid) vs initialisation (dashed), Student-t 95 % bands over seeds."}}
fig, axes = plots.subplots(ncols=3, width=3.0, height=2.7)
for ax, (q, label) in zip(axes[0], (("erank_raw", "erank of $h^l$"), ("pr_ln", "participation ratio of LN($h^l$)"),
                                    ("pc90_ln", "PCs for 90 % variance, LN($h^l$)"))):
    for stage, ls, color in (("trained", "-", "C0"), ("init", "--", "C7")):
        mean, lo, hi = metrics.seed_band(meas.get("potts", q, stage, xi1)[:, 1:])
        plots.band(ax, layers[1:], mean, lo, hi, label=stage, linestyle=ls, color=color)
    ax.set(title=label, xlabel="layer $l$", xticks=layers[1:])
axes[0, 0].legend()
plt.show()

# %% [markdown]
# ## The test, per seed
#
# Spearman's $\rho(l,\operatorname{erank}(l))$ over $l\ge 1$ for each seed, trained against both
# nulls ({numref}`fig-rank-rho`).

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rank-rho", "caption": "Spearman rho(l, erank of LN(h^l)) over l >= 1, one point per seed, for trained networks and the two null controls (potts, xi ~ 1), with the mean and its Student-t 95 % interval (black)."}}
fig, axes = plots.subplots(width=4.5, height=2.8)
ax = axes[0, 0]
groups = [("trained", meas.get("potts", "erank_ln", "trained", xi1)),
          ("initialisation", meas.get("potts", "erank_ln", "init", xi1))]
if "shuffled" in results:
    groups.append(("shuffled chain", meas.get("shuffled", "erank_ln", "trained", probe=measure.on_chain("potts", xi1))))
for k, (name, prof) in enumerate(groups):
    rho = findings.rho_from_1(prof)
    ax.scatter(np.full(rho.size, k) + np.linspace(-0.15, 0.15, rho.size), rho, s=14, color=f"C{k}")
    plots.interval_errorbar(ax, k + 0.3, rho.mean(), metrics.seed_ci(rho).low, metrics.seed_ci(rho).high,
                            fmt="o", color="k", capsize=3)
ax.set_xticks(range(len(groups)), [g[0] for g in groups])
ax.set(ylabel="Spearman $\\rho(l, \\dim)$, $l \\geq 1$", ylim=(-1.05, 1.05))
plt.show()

# %% [markdown]
# ## Verdict
#
# The row is computed by `rgnb.mlp.findings.rank_collapse_rows` from the registered claim; its
# premise is that every network compared (and every shuffled-chain network) passed the convergence
# gate. {numref}`fig-rank-forest` draws each contrast in units of the margin.

# %% tags=["remove-input"]
rows = findings.rank_collapse_rows(meas, run.profile)
claims.record(run, rows, specs=registry.FINDINGS)

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rank-forest", "caption": "The contrasts of finding (i) with their exact sign-flip 95 % intervals, in units of the registered margin (0.3 in rho), signed so that the claim's side is to the right of the dashed line; colour: the verdict."}}
fig, ax = plots.forest(rows)
plt.show()

# %% [markdown]
# ## Protocol history
#
# What changed, after which result (the post hoc mark of a row is derived from this history,
# `results/claims_history.json`, not typed): protocol v1 measured all rows and reported
# $\rho = +1$; protocol v2 (masked rows, $l \ge 1$, $\mathrm{LN}(h^l)$, null controls) was written
# after that, keeping the threshold $-0.8$, so this claim is post hoc. Verdicts v3 (after the v2
# ledger, for every claim alike) replaced the absolute level $-0.8$ on the trained networks by paired
# contrasts against both nulls with a margin of 0.3, and made the ring chain, the raw stream, the
# PCs for 90 % and isolated masking sub-rows of one claim instead of four rows.
