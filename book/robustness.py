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
# # Robustness: a second reading of "pure MLP residual stack"
#
# The rank-collapse paper {cite}`rankcollapse2026` describes its networks as pure MLP residual
# stacks. The three previous chapters read that as an MLP-Mixer with pre-LayerNorm (token mixing,
# then a channel MLP, each behind a LayerNorm, as in {cite}`tolstikhin2021mixer`). Are the verdicts
# a property of the networks the paper describes, or of that one reading? Here we retrain the same
# networks **without LayerNorm** and run the same tests, with the same registered contrasts and margins and the same null
# controls. A claim that holds for one reading only is reported as such.

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("robustness", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
import numpy as np
from IPython.display import Markdown
from matplotlib import pyplot as plt

from rgnb import claims, plots
from rgnb.mlp import evidence, findings, gate, paired, registry, scan, shipped, shipped_measurements, sweeps, tables
from rgnb.stats import mean_ci

# %% [markdown]
# ## Method
#
# **The second reading (our choice).** The mixer of the previous chapters with every LayerNorm
# removed: $u^l = h^{l-1} + \mathrm{TokenMLP}(h^{l-1})$, $h^l = u^l + \mathrm{ChannelMLP}(u^l)$,
# logits $= h^L W_\text{out} + b_\text{out}$ (`rgnb.mlp.model.ModelConfig(layer_norm=False)`).
# The initialisation is unchanged: the LayerNorm parameters draw no random numbers, so network $s$
# of this reading starts from the same weights as network $s$ of the main reading. So are the
# optimiser, learning-rate schedule, batch and data streams. Only the number of steps differs:
# without LayerNorm the networks converge more slowly. The step count was first tuned on the
# convergence gate alone (the table below), before any of these networks was measured; a first run at
# that budget left one network above the gate, so every sweep of this reading was retrained with more
# steps (the history is under the table: that second choice is ours, and it was made after the first
# run's statistics had been seen, with the gate unchanged). We chose this
# reading over a residual MLP on the flattened sequence because it keeps the per-position
# representation that protocol v2 measures, so every statistic is defined identically for both
# readings.
#
# **Measurement.** Protocol v3, as in the three previous chapters, at the main shape only (depth
# 8, V = 8: the scan of depth and vocabulary was not retrained without LayerNorm, to keep the CPU
# budget): masked rows, layers $l \ge 1$, each seed on its own probe set, on which are measured the
# chain network at initialisation and trained and the seed's shuffled-chain network. Without
# LayerNorm the next block reads $h^l$ itself, so $\mathrm{LN}(h^l)$ is here only a normalisation
# of the measurement; {numref}`fig-robust-rank` shows the raw stream $h^l$ beside it.
#
# **Tests.** Each protocol-v3 claim that one shape can test (`rgnb.mlp.registry.ROBUSTNESS_V3`):
# the same statistic, contrasts, margin and premise as the main reading, registered before any v3
# measurement of these networks (not the bulk row, which needs the vocabulary scan, nor the dose
# response, which needs the xi grid). The pooled rows of the main reading decide on five shapes;
# here they decide on one, so an absence test has about a third of the power. The comparison
# between readings below is made like with like: the main reading's rows recomputed on its main
# shape alone.

# %% tags=["nbval-ignore-output"]
results = shipped.load_profile(run.profile, run.device)
main = sweeps.reading(results, sweeps.MAIN_READING)
robust = sweeps.reading(results, sweeps.ROBUSTNESS_READING)
stored = shipped_measurements.default_directory(run.profile)
main_config = evidence.measure_reading(main, shipped_dir=stored)
robust_config = evidence.measure_reading(robust, evidence.ROBUST_FAMILY, shipped_dir=stored)
readings = (("mixer", main_config.measurements), ("no LayerNorm", robust_config.measurements))
xi1, xi7 = evidence.XI_SHORT, evidence.XI_LONG
L = robust_config.shape.depth
print({f: len(r) for f, r in robust.items()}, "networks without LayerNorm; chains xi =", robust["potts"].config.xis,
      "; depth", L)

# %% tags=["remove-input"]
configs = {f"{f} (no LayerNorm)": r.config for f, r in robust.items()} | {f"{f} (mixer)": main[f].config
                                                                        for f in robust if f in main}
Markdown("**Networks** of the two readings at this profile (the ring chains and isolated masking were not "
         "retrained without LayerNorm, to keep the CPU budget; those rows exist for the main reading only):\n\n"
         + tables.readings_markdown(configs)
         + "\n\n**Tuning of the step count without LayerNorm** (CPU, potts $\\xi = 7$, the binding chain, depth 8, "
         "seeds 0 and 1; judged on the gate only, held-out excess loss in nats per seed, gate 0.01):\n\n"
         + tables.no_layernorm_tuning_markdown()
         + "\n\n**First run and retraining.** The first reference run of this reading trained "
         f"{sweeps.NO_LAYERNORM_FIRST_RUN['steps']} steps; {sweeps.NO_LAYERNORM_FIRST_RUN['passed']} networks passed "
         "the gate, and "
         + "; ".join(f"potts $\\xi = {x:g}$, seed {s} (excess {e:.4f} nats)"
                     for x, s, e in sweeps.NO_LAYERNORM_FIRST_RUN["failed"])
         + " did not, so by the book's rule every row of this reading said *premise not met*. Its statistics "
         "were computed and shown as descriptive values. Every sweep of this reading, the shuffled-chain null "
         "control included (it keeps the chains' budget), was then retrained from the same initial weights "
         f"and data streams for {sweeps.NO_LAYERNORM_STEPS} steps, the gate threshold unchanged. The networks "
         "measured below are those of the second run.")

# %% [markdown]
# ## The premise: do networks without LayerNorm reach the Bayes floor?

# %% tags=["remove-input"]
Markdown(gate.gate_markdown({f"{f} (no LayerNorm)": r for f, r in robust.items()}
                             | {f"{f} (mixer)": main[f] for f in robust if f in main}))

# %% tags=["remove-input"]
failing = [(f, m, float(r.excess_loss[i])) for f, r in robust.items()
           for i, (m, ok) in enumerate(zip(r.members, r.gate())) if not ok]
Markdown("Every network of this reading passes the gate: its rows below are verdicts." if not failing else
         f"**{len(failing)} network(s) of this reading fail the gate**: "
         + "; ".join(f"{f} $\\xi = {m['xi']:g}$, seed {m['seed']} (excess {e:.4f} nats)" for f, m, e in failing)
         + f". By the book's rule (fixed before any run, the same for every chapter) every row of this reading "
         "then says *premise not met*; the threshold is not moved after the fact. Their statistics are still "
         "computed and shown below, to be read as descriptive. More training steps would be the remedy "
         f"(the step count was raised once already, from {sweeps.NO_LAYERNORM_FIRST_RUN['steps']} to "
         f"{sweeps.NO_LAYERNORM_STEPS}; see the history above).")

# %% [markdown]
# ## Finding (i): the rank profile under both readings
#
# {numref}`fig-robust-rank` puts the two readings side by side at $\xi \approx 1$: the effective
# rank of $\mathrm{LN}(h^l)$ (the statistic of the tests), of the raw stream $h^l$ and the
# PCs for 90 % of the variance of $\mathrm{LN}(h^l)$, trained against the same networks at
# initialisation and against the seed's shuffled-chain network on the same probes.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-rank", "caption": "Dimension of the masked rows per layer (potts, xi ~ 1, depth 8, V = 8) for the mixer with LayerNorm (left column) and without it (right column), mean over seeds with Student-t 95 % bands, each seed on its own probes: effective rank of LN(h^l) (top), of raw h^l (middle), PCs for 90 % of the variance of LN(h^l) (bottom); trained on the chain, the same networks at initialisation, and the seed's network trained on the shuffled chain."}}
fig, axes = scan.draw_columns(list(readings), (("erank_ln", "erank of LN($h^l$)"), ("erank_raw", "erank of $h^l$"),
                                               ("pc90_ln", "PCs 90 % of LN($h^l$)")), xi1)
plt.show()

# %% [markdown]
# ## Finding (ii): selectivity under both readings
#
# {numref}`fig-robust-selectivity` shows $\log c$, $c = \operatorname{erank}(L) /
# \operatorname{erank}(1)$ of $\mathrm{LN}(h)$, at the two chains for both readings: the
# presence test contrasts the chain networks with the shuffled-chain networks at $\xi \approx 1$,
# the absence test at $\xi \approx 7$, and the selectivity test the difference of the two.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-selectivity", "caption": "log c, c = erank(L)/erank(1) of LN(h) on masked rows, at xi ~ 1 and xi ~ 7 (potts, depth 8, V = 8), mean over seeds with Student-t 95 % bars, each seed on its own probes: trained on the chain, the same networks at initialisation, and the seed's network trained on the shuffled chain (measured on the same probes); the mixer with LayerNorm (left) and without it (right)."}}
fig, axes = plots.subplots(ncols=2, width=3.2, height=2.8, sharey=True)
axes = axes[0]
for ax, (name, m) in zip(axes, readings):
    for k, arm in enumerate(paired.ARMS):
        label, ls, color = scan.ARM_STYLE[arm]
        iv = [mean_ci(evidence.log_c(m, arm, xi)) for xi in (xi1, xi7)]
        x = np.array([0.0, 1.0]) + (k - 1) * 0.08
        est = np.array([i.estimate for i in iv])
        ax.errorbar(x, est, [est - [i.low for i in iv], [i.high for i in iv] - est], fmt="o", linestyle=ls,
                    color=color, capsize=3, label=label)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set(title=name, xlabel="correlation length $\\xi$", xticks=[0, 1], xticklabels=[f"{xi1:g}", f"{xi7:g}"])
axes[0].set_ylabel("log $c$")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=1, frameon=False)
plt.show()

# %% [markdown]
# ## Finding (iii): kernel drift under both readings
#
# {numref}`fig-robust-drift` shows the drift $1-\mathrm{CKA}$ of each transition $l \to l+1$,
# $l \ge 1$, at $\xi\approx 1$ (log scale: the concentration rows compare shares, the plateau row
# a level).

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-drift", "caption": "Kernel drift 1 - CKA between consecutive layers on masked rows (potts, xi ~ 1, depth 8, V = 8), transitions l -> l+1 for l >= 1, log scale, mean over seeds with Student-t 95 % bands, each seed on its own probes: trained on the chain, the same networks at initialisation, and the seed's network trained on the shuffled chain; the mixer with LayerNorm (left) and without it (right)."}}
fig, axes = scan.draw_columns(list(readings), (("drift", "1 - CKA"),), xi1, log=True)
plt.show()

# %% [markdown]
# ## Which verdicts depend on the reading
#
# Each claim tested under both readings, with its verdict under each. The main reading's verdicts
# here are its rows recomputed on the main shape alone (the configuration the rows without
# LayerNorm have), not the pooled rows of the previous chapters. A claim *holds* under a reading
# when it is reproduced there and *fails* when it is not reproduced; where either verdict is
# inconclusive, a vacuous test or premise not met, the comparison is undecided and the table says
# which reading left it open; the measured contrasts are shown beside the verdicts either way.

# %% tags=["remove-input"]
robust_rows = evidence.robustness_rows(robust_config, run.profile)
main_rows = evidence.main_shape_rows(main_config, run.profile)
Markdown(tables.agreement_markdown(findings.reading_agreement(main_rows, robust_rows)))

# %% [markdown]
# ## Verdict
#
# Rows computed by `rgnb.mlp.evidence.robustness_rows`: the registered protocol-v3 claims for the
# mixer without LayerNorm (`rgnb.mlp.registry.ROBUSTNESS_V3`; our claims: the robustness check is
# ours, not the paper's). {numref}`fig-robust-forest` draws the contrasts in units of their margins.

# %% tags=["remove-input"]
claims.record(run, robust_rows, specs=registry.ROBUSTNESS_V3)

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-forest", "caption": "The contrasts of findings (i)-(iii) for the mixer without LayerNorm, exact sign-flip 95 % intervals in units of the registered margins, signed so that the claim's side is to the right of the dashed line (shaded: the equivalence band of an absence claim; the positive control drawn below); colour: the verdict."}}
fig, ax = plots.forest(robust_rows)
plt.show()

# %% [markdown]
# ## What was found
#
# Computed from the rows above (`rgnb.claims.findings_markdown`):

# %% tags=["remove-input"]
Markdown(claims.findings_markdown(robust_rows))

# %% [markdown]
# ## Protocol history
#
# The networks without LayerNorm were retrained (from 8000 to 10000 steps, tuned on the
# convergence gate) after their first statistics had been seen. Verdicts v3 re-declared the v2
# tests, and protocol v3 (this chapter's rows) replaced them after a review of the v2 ledger; the
# rows that replace a v2 row are post hoc, derived from `results/claims_history.json`. The v3 rows
# of this reading were registered before any v3 measurement of its networks.
