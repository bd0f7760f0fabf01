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
# depth*. This chapter measures the effective rank {cite}`roy2007erank` of every layer of the
# networks trained in the training chapter, compares it with the same networks at initialisation
# (the control: whatever a random network already does is not a property of training), and puts the
# word "monotone" to a test stated before any network was measured.

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

from rgnb import claims, findings, metrics, plots, train

# %% [markdown]
# ## Method
#
# **Effective rank.** For a representation $X\in\mathbb R^{N\times d}$ ($N$ probe sequences, $d$
# channels), centred over the $N$ rows, with singular values $s_i$, let $p_i = s_i/\sum_j s_j$; the
# effective rank is $\operatorname{erank}(X) = \exp(-\sum_i p_i\log p_i)$, between 1 and
# $\min(N, d)$ {cite}`roy2007erank`. We also report the participation ratio
# $(\sum_i s_i^2)^2/\sum_i s_i^4$, the effective number of principal components.
#
# **Where it is measured.** The residual stream $h^l\in\mathbb R^{N\times T\times d}$, $l=0,\dots,L$
# ($h^0$ = token + position embeddings, $h^l$ = after block $l$), on the fixed probe set of the
# network's chain (the masked inputs the network sees). Three ways to turn $N\times T\times d$ into
# matrices (`rgnb.metrics.stream_erank`):
# *per position* (the erank of $h^l_{:,t,:}$ for each $t$, then averaged over $t$: the paper's
# control for mean-pooling artifacts), *pooled* (mean over positions first) and *stacked* (all
# $NT$ rows at once).
#
# **The test** (ours; the abstract does not say how "monotone" was judged). Per seed we compute
# Spearman's $\rho(l, \operatorname{erank}(l))$ and the share of steps $l\to l+1$ at which the
# erank does not increase; the claim is *reproduced* when the whole bootstrap 95% CI over seeds of
# the mean lies past the threshold, *not reproduced* when it lies wholly on the other side. The
# paper's collapse is selective (next chapter), so finding (i) is tested on the chain with
# $\xi\approx 1$, at the deepest depth of the sweep. As a control, the collapse ratio
# $R = \operatorname{erank}(L)/\operatorname{erank}(0)$ of the trained network is compared with the
# same network at initialisation. The thresholds live in `rgnb.findings` and were fixed before any
# run; the one test added after seeing the smoke results is marked *post hoc* and explained below.

# %% tags=["remove-input"]
Markdown(findings.thresholds_markdown((
    ("monotone decrease (Spearman)", findings.MONOTONE_RHO),
    ("monotone decrease (steps)", findings.NONINCREASING),
    ("the drop is learned (ours)", findings.LEARNED),
    ("post hoc: monotone from block 1 on", findings.MONOTONE_RHO_FROM_1))))

# %% tags=["nbval-ignore-output"]
result = train.run_sweep(train.sweep_for(run.profile), run.device, progress=False)
sm = findings.measure_sweep(result, seed=run.seed)
xi1, xi7 = sm.paper_chains()
L = sm.deepest
print(f"{len(result.members)} networks (cached: {result.from_cache}); chains xi = {sm.xis}, depths {sm.depths}")

# %% [markdown]
# ## Effective rank through the stack
#
# Mean over seeds with a bootstrap 95% band, trained (solid) against the same networks at
# initialisation (dashed), for the two chains of the paper, at the deepest depth. Top row: per
# position; middle: mean-pooled; bottom: all positions stacked.

# %% tags=["hide-input"]
fig, axes = plots.subplots(2, 3, width=4.0, height=2.7)
layers = np.arange(L + 1)
for r, mode in enumerate(metrics.STREAM_MODES):
    for c, xi in enumerate((xi1, xi7)):
        ax = axes[r, c]
        for stage, ls in (("trained", "-"), ("init", "--")):
            mean, lo, hi = sm.band(sm.profiles(f"erank_{mode}", stage, xi, L))
            plots.band(ax, layers, mean, lo, hi, label=stage, linestyle=ls, color="C0" if stage == "trained" else "C7")
        ax.set_xticks(layers)
        ax.set_title(f"xi = {xi:g}, {mode}")
        ax.set_xlabel("layer l")
        ax.set_ylabel("erank")
axes[0, 0].legend()
plt.show()

# %% [markdown]
# The participation ratio tells the same story with more weight on the leading directions:

# %% tags=["hide-input"]
fig, axes = plots.subplots(2, 1, width=4.0, height=2.7)
for c, xi in enumerate((xi1, xi7)):
    ax = axes[0, c]
    for stage, ls in (("trained", "-"), ("init", "--")):
        mean, lo, hi = sm.band(sm.profiles("pr_position", stage, xi, L))
        plots.band(ax, layers, mean, lo, hi, label=stage, linestyle=ls, color="C1" if stage == "trained" else "C7")
    ax.set_title(f"xi = {xi:g}, participation ratio per position")
    ax.set_xlabel("layer l")
axes[0, 0].legend()
plt.show()

# %% [markdown]
# ## Every chain and depth
#
# The per-position profile of every network, normalised by its own $h^0$ (so the curves show
# $\operatorname{erank}(l)/\operatorname{erank}(0)$, whose last point is the collapse ratio $R$ of the
# next chapter), for each depth of the sweep.

# %% tags=["hide-input"]
fig, axes = plots.subplots(len(sm.depths), 1, width=4.0, height=2.7)
cmap = plt.get_cmap("viridis")
for c, depth in enumerate(sm.depths):
    ax = axes[0, c]
    for k, xi in enumerate(sm.xis):
        prof = sm.profiles("erank_position", "trained", xi, depth)
        mean, lo, hi = sm.band(prof / prof[:, :1])
        plots.band(ax, np.arange(depth + 1), mean, lo, hi, label=f"xi = {xi:g}", color=cmap(k / max(1, len(sm.xis) - 1)))
        init = sm.profiles("erank_position", "init", xi, depth)
        ax.plot(np.arange(depth + 1), (init / init[:, :1]).mean(0), color="0.6", lw=0.8, ls="--")
    ax.axhline(1.0, color="k", lw=0.6)
    ax.set_xticks(np.arange(depth + 1))
    ax.set_title(f"depth {depth} (dashed grey: at initialisation)")
    ax.set_xlabel("layer l")
    ax.set_ylabel("erank(l) / erank(0)")
axes[0, 0].legend()
plt.show()

# %% [markdown]
# ## Why the test from $l = 0$ cannot pass here, and the post-hoc variant
#
# At a single position $t$, the embedding layer $h^0_{:,t,:}$ takes only $V+1$ distinct values (one
# per input symbol, the position embedding being the same for every row), so its rank is at most
# $V+1$ and its effective rank is close to $V$ whatever the width. From the first block on, the
# token-mixing MLP makes $h^l_{:,t,:}$ depend on the whole sequence, so its rank is no longer bounded
# by $V+1$, and a random network raises it at every block (dashed curves). Measured from $l=0$, a
# monotone decrease would need every layer to stay below the embedding layer's small rank: with a
# vocabulary smaller than the width this is not what networks of this architecture do, trained or
# not, and the pre-stated test says so. What training does is visible against the control instead: where the solid curve
# lies below the dashed one, training removed dimensions that the random network had (the "drop is
# learned" row of the claims table tests this at the last layer). We therefore add, after seeing the
# smoke results, the same Spearman test on $l\ge 1$ (marked *post hoc*); its threshold is the
# pre-stated one, not re-tuned. The paper's own $h^0$ convention is not public to us (its embeddings
# may be measured differently, or its vocabulary may exceed its width).

# %% tags=["remove-input", "nbval-ignore-output"]
mono = findings.monotonicity(sm, xi1, L)
mono_init = findings.monotonicity(sm, xi1, L, stage="init")
mono1 = findings.monotonicity(sm, xi1, L, start=1)
Markdown("| xi = %g, depth %d | Spearman rho(l, erank) | non-increasing share |\n|---|---|---|\n" % (xi1, L)
         + f"| trained, l >= 0 | {mono['rho'].format()} | {mono['share'].format()} |\n"
         + f"| initialisation, l >= 0 | {mono_init['rho'].format()} | {mono_init['share'].format()} |\n"
         + f"| trained, l >= 1 (post hoc) | {mono1['rho'].format()} | {mono1['share'].format()} |")

# %% [markdown]
# ## Verdict
#
# Means over seeds with bootstrap 95% CIs; verdicts computed by `rgnb.findings.rank_collapse_claims`
# from the thresholds above. A *not reproduced* verdict here means the measured interval lies wholly
# on the failing side of the pre-stated threshold at this profile; the figures above show why.

# %%
claims.record_claims("rank_collapse", findings.rank_collapse_claims(sm))
