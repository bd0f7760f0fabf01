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
# # Finding (iii): kernel drift and fixed points
#
# The third finding of the rank-collapse paper {cite}`rankcollapse2026`: the inter-layer kernel
# drift of a trained MLP residual network is concentrated in one or two transitions, the other
# layers sitting near a fixed point (a plateau). The paper's sentence does not say what concentrates
# the drift: training as such, or the chain the network learned. We register the first reading as
# the paper's claim (the null: the same networks at initialisation) and test the second as ours
# (the null: networks trained on a shuffled chain, whose deep layers stop changing, so the plain
# share would call them concentrated).

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("kernel_drift", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
from IPython.display import Markdown
from matplotlib import pyplot as plt

from rgnb import claims, plots
from rgnb.mlp import evidence, registry, scan, shipped, shipped_measurements, sweeps

# %% [markdown]
# ## Method (protocol v3)
#
# The layer kernel on the masked rows of position $t$ is $K^l = X^l X^{l\top}/d$ with $X^l$ those
# rows of $h^l$. The drift of transition $l\to l+1$ is $1 - \mathrm{CKA}(K^l, K^{l+1})$ (linear CKA
# {cite}`kornblith2019cka`), averaged over positions. The embedding transition $0 \to 1$ is left
# out: on masked rows $h^0$ is one vector, so every network's first block "drifts" maximally.
# Networks, probes and pairing are the P1 scan's (previous chapters); the tests need a third
# transition beyond the top two, so they run on the shapes of depth 4 and more. Registered in
# `rgnb.mlp.registry` before any scan network was measured, with exact sign-flip 95 % intervals over
# seeds; the main shape decides, the other shapes, the ring chain and isolated masking are sub-rows:
#
# - *concentration* (`P1-iii-concentrated-v3`): the share of the total drift over $l \ge 1$ in the
#   two largest transitions, trained minus initialised, above 0.15 (about one transition's share of
#   a uniform profile at depth 8);
# - *concentration by the chain* (`ours-iii-concentration-by-chain`): the *excess* concentration
#   over the live transitions (those with at least 1 % of the largest drift), the top-two share
#   minus its uniform value $2/n_\text{live}$, trained on the chain minus trained on the shuffled
#   chain; a dead layer counts neither as concentration nor as a plateau;
# - *plateau* (`P1-iii-plateau-v3`): the plateau level, the largest drift outside the top two
#   ($l \ge 1$), trained against initialised on the log scale, below $-\ln 2$ (a halving).

# %% tags=["nbval-ignore-output"]
results = sweeps.reading(shipped.load_profile(run.profile, run.device))  # the main reading: mixer with LayerNorm
scan_results = shipped.load_scan_profile(run.profile, run.device)
measured = evidence.measure_all(results, scan_results, shipped_dir=shipped_measurements.default_directory(run.profile))
main = measured.main
deep = [s for s in scan.scan_shapes(measured.measured, main, "depth") if s.depth >= evidence.DRIFT_MIN_DEPTH]

# %% [markdown]
# ## Drift profiles
#
# {numref}`fig-drift-profile` shows the drift of every transition $l \ge 1$ at each depth of the
# scan for trained networks, the same networks at initialisation, and the shuffled-chain networks
# on the same probes.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-drift-profile", "caption": "Kernel drift 1 - CKA(K^l, K^{l+1}) on masked rows per transition l -> l+1, l >= 1, at each depth of the scan (V = 8, potts xi ~ 1): trained on the chain (solid), at initialisation (dashed), trained on the shuffled chain on the same probes (dotted); mean over seeds with Student-t 95 % bands, log scale."}}
fig, _ = scan.draw_profiles(measured.measured, (("drift", "1 - CKA"),), evidence.XI_SHORT, deep, log=True)
plt.show()

# %% [markdown]
# ## Across the scan
#
# {numref}`fig-drift-scan` summarises each shape by the three statistics the rows test.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-drift-scan", "caption": "Per shape (depth >= 4), mean over seeds with a Student-t 95 % interval: the top-two share of the drift over l >= 1, its excess over the live transitions, and the log plateau level; against depth at V = 8 (left) and vocabulary at depth 8 (right), potts xi ~ 1; the grey bar marks the main shape."}}
fig = scan.draw_scan(measured.measured, (("top2", evidence.XI_SHORT), ("live", evidence.XI_SHORT),
                                         ("log_plateau", evidence.XI_SHORT)), main)
plt.show()

# %% [markdown]
# ## Verdict
#
# Rows computed by `rgnb.mlp.evidence.protocol_v3_rows` from the registered claims;
# {numref}`fig-drift-forest` draws each contrast in units of its margin.

# %% tags=["remove-input"]
rows = evidence.chapter_rows(evidence.protocol_v3_rows(measured, run.profile), "kernel_drift")
claims.record(run, rows, specs=registry.PROTOCOL_V3)

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-drift-forest", "caption": "The contrasts of finding (iii) with their exact sign-flip 95 % intervals, in units of the registered margin, signed so that the claim's side is to the right of the dashed line; colour: the verdict."}}
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
# findings (the v1 plateau and top-two tests passed at initialisation too); protocol v2 was written
# after them. Verdicts v3 replaced the thresholds on the trained networks (top-two share above
# $2/(L-1) + 0.15$, plateau ratio below 0.5) by paired contrasts against both nulls and removed the
# with-embedding row. Protocol v3 (this chapter) was written after a review of that ledger showed
# that the shuffled-chain networks concentrate more than the chain networks only because their deep
# layers stop changing; it registered which reading of "concentrated" is the paper's, the live
# transitions for the chain's part (ours), and the scan; the rows that replace v2 rows are post hoc.
#
# One code change after registration, before any v3 statistic of the reference networks was seen:
# the first reference execution stopped because the implementation of the excess concentration
# (`rgnb.mlp.statistics.live_excess_concentration`) refused profiles with fewer than three live
# transitions, a guard the registered statistic does not have. Some networks have two. The code now
# computes the registered formula there (the top two hold all the live drift, their uniform value:
# excess 0); the registered spec, and so its hash, is unchanged.
