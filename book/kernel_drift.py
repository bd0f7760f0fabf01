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
# # Finding (iii): kernel drift, transitions and fixed points
#
# The third finding of {cite}`rankcollapse2026`, the one that motivates its renormalisation-group
# reading: the representation does not change gradually through the stack. The inter-layer *kernel
# drift* is concentrated in one or two transitions, and the other layers sit near a fixed point, a
# plateau on which a block barely changes the kernel. This chapter measures the drift profile of the
# trained networks and of the same networks at initialisation, locates the transitions, asks whether
# they are where the effective rank changes, and tests the plateau against a stated threshold.

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("kernel_drift", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
import numpy as np
from IPython.display import Markdown
from matplotlib import pyplot as plt

from rgnb import claims, findings, metrics, plots, train

# %% [markdown]
# ## Method
#
# **Layer kernel and drift.** At each position $t$, the layer kernel on the $N$ probe sequences is
# $K^l_t = h^l_{:,t,:}\,(h^l_{:,t,:})^\top/d$. The drift between consecutive layers is
# $1-\mathrm{CKA}(K^l_t, K^{l+1}_t)$, with linear (centred) kernel alignment {cite}`kornblith2019cka`,
# averaged over positions; it is 0 when the two layers differ by a rotation and a rescaling, and
# insensitive to the growth of the residual stream's norm. We also show the normalised Frobenius
# change $\lVert K^{l+1}_t-K^l_t\rVert_F/\lVert K^l_t\rVert_F$ of the raw kernels, which does see
# the norm growth (`rgnb.metrics.kernel_drift`; both are computed from $d\times d$ Gram matrices).
#
# **Concentration** (`rgnb.metrics.drift_concentration`). For a drift profile $D_1,\dots,D_L$: the
# share of $\sum_l D_l$ in the largest one and two transitions, and the participation ratio
# $(\sum_l D_l)^2/\sum_l D_l^2$, the *effective number of transitions* (1 when one transition
# carries all the drift, $L$ when the drift is uniform). The *plateau level* is the largest drift
# outside the top two transitions.
#
# **Tests** (ours; thresholds fixed before any run, in `rgnb.findings`): the effective number of
# transitions below 2.5 and the top-two share above 0.6 ("one or two transitions"); the plateau
# level below 0.05 ("the other layers sit near a fixed point"); and the Pearson correlation over
# transitions between the drift and the rank drop $\operatorname{erank}(l)-\operatorname{erank}(l+1)$
# above 0.5 ("the transitions are where the rank drops"). All on the 1 - CKA profile of the
# $\xi\approx 1$ chain at the deepest depth (the plateau also at $\xi\approx7$), means over seeds
# with bootstrap 95% CIs. One test was added after seeing the smoke results and is marked *post
# hoc*: the correlation with the absolute rank change, because the first block, where the drift
# is, raises the per-position rank above the embedding layer's bound (finding (i) chapter).
# Note that with few blocks these tests are weak: at depth 4 a uniform profile already has a
# top-two share of 0.5.

# %% tags=["remove-input"]
Markdown(findings.thresholds_markdown((
    ("one or two transitions", findings.EFFECTIVE_TRANSITIONS),
    ("one or two transitions", findings.TOP2_SHARE),
    ("plateau elsewhere", findings.PLATEAU),
    ("transitions at the rank drop (ours)", findings.COINCIDENCE),
    ("training concentrates the drift (ours)", findings.CONCENTRATED_BY_TRAINING),
    ("post hoc: transitions at the rank change", findings.COINCIDENCE_ABS))))

# %% tags=["nbval-ignore-output"]
result = train.run_sweep(train.sweep_for(run.profile), run.device, progress=False)
sm = findings.measure_sweep(result, seed=run.seed)
xi1, xi7 = sm.paper_chains()
L = sm.deepest
print(f"{len(result.members)} networks (cached: {result.from_cache}); chains xi = {sm.xis}, depths {sm.depths}")

# %% [markdown]
# ## Drift profiles
#
# Drift of each transition $l\to l+1$ for the two chains of the paper at the deepest depth, trained
# (solid) and at initialisation (dashed), mean over seeds with a bootstrap 95% band. Top: $1-$CKA;
# bottom: normalised Frobenius change. The dotted line is the plateau threshold.

# %% tags=["hide-input"]
fig, axes = plots.subplots(2, 2, width=4.0, height=2.7)
steps = np.arange(1, L + 1)
for r, (q, label) in enumerate((("drift_cka", "1 - CKA(K^l, K^(l+1))"), ("drift_frobenius", "||dK||_F / ||K||_F"))):
    for c, xi in enumerate((xi1, xi7)):
        ax = axes[r, c]
        for stage, ls in (("trained", "-"), ("init", "--")):
            mean, lo, hi = sm.band(sm.profiles(q, stage, xi, L))
            plots.band(ax, steps, mean, lo, hi, label=stage, linestyle=ls, marker="o",
                       color="C2" if stage == "trained" else "C7")
        if q == "drift_cka":
            ax.axhline(findings.PLATEAU.value, color="k", ls=":", lw=1)
        ax.set_xticks(steps, [f"{l - 1}->{l}" for l in steps])
        ax.set_title(f"xi = {xi:g}, depth {L}")
        ax.set_ylabel(label)
        ax.set_xlabel("transition")
axes[0, 0].legend()
plt.show()

# %% [markdown]
# ## Where the transitions sit, chain by chain
#
# Concentration statistics of the $1-$CKA profile at the deepest depth, every chain, trained and at
# initialisation (mean over seeds, bootstrap 95% CI), and the position of the largest transition of
# each seed.

# %% tags=["remove-input", "nbval-ignore-output"]
Markdown(findings.concentration_table(sm, L))

# %% [markdown]
# ## Do the transitions coincide with the rank change?
#
# Per seed, the drift of each transition (bars) next to the per-position change of the effective
# rank across it, $\operatorname{erank}(l+1)-\operatorname{erank}(l)$ (line, right axis), for the
# $\xi\approx 1$ chain at the deepest depth. A transition that coincides with a rank *drop* would show
# a tall bar above a negative step.

# %% tags=["hide-input"]
D = sm.profiles("drift_cka", "trained", xi1, L)
E = sm.profiles("erank_position", "trained", xi1, L)
fig, axes = plots.subplots(D.shape[0], 1, width=3.0, height=2.6)
for s in range(D.shape[0]):
    ax = axes[0, s]
    ax.bar(steps, D[s], color="C2", alpha=0.7)
    ax.set_xticks(steps, [f"{l - 1}->{l}" for l in steps])
    ax.set_ylabel("1 - CKA")
    ax.set_title(f"seed {sm.members[sm.index(xi1, L)[s]]['seed']}")
    ax2 = ax.twinx()
    ax2.plot(steps, np.diff(E[s]), color="C3", marker="o")
    ax2.axhline(0.0, color="C3", lw=0.6, ls=":")
    ax2.set_ylabel("erank(l+1) - erank(l)", color="C3")
    ax2.grid(False)
plt.show()

# %% [markdown]
# ## Verdict
#
# Computed by `rgnb.findings.kernel_drift_claims` from the thresholds above. The drift is measured
# with a scale-free alignment, so a "plateau" here means the kernel's *shape* is fixed from block to
# block; the Frobenius panel shows how much of the raw change is the growth of the stream's norm.

# %%
claims.record_claims("kernel_drift", findings.kernel_drift_claims(sm))
