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

from rgnb import claims, metrics, plots
from rgnb.mlp import findings, gate, measure, registry, shipped, sweeps, tables

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
# **Measurement.** Exactly protocol v2: masked rows, per position, layers $l \ge 1$. Without
# LayerNorm the next block reads $h^l$ itself, so $\mathrm{LN}(h^l)$ is here only a normalisation
# of the measurement. Finding (i) has a row on the raw stream $h^l$ (what the next block reads);
# finding (ii)'s rows use $\mathrm{LN}(h)$ for both readings, as in the main chapter; the drift of
# finding (iii) is measured on $h^l$ itself (CKA is invariant to the stream's overall scale).

# %% tags=["nbval-ignore-output"]
results = shipped.load_profile(run.profile, run.device)
main = sweeps.reading(results, sweeps.MAIN_READING)
robust = sweeps.reading(results, sweeps.ROBUSTNESS_READING)
meas_main = measure.measure_profile(main)
meas_robust = measure.measure_profile(robust)
xi1, xi7 = measure.paper_xis(robust["potts"].config.xis)
L = max(robust["potts"].config.depths)
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
# rank of $\mathrm{LN}(h^l)$ (the statistic of the main rows), of the raw stream $h^l$ and the PCs
# for 90 % of the variance of $\mathrm{LN}(h^l)$, trained against the same networks at
# initialisation and against networks trained on the shuffled chain.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-rank", "caption": "Dimension of the masked rows per layer (potts, xi ~ 1), mean over seeds with Student-t 95 % bands, for the mixer with LayerNorm (top row) and without it (bottom row): effective rank of LN(h^l), effective rank of raw h^l, PCs for 90 % of the variance of LN(h^l); trained (solid), the same networks at initialisation (dashed), networks trained on a shuffled chain (dotted)."}}
quantities = (("erank_ln", "erank of LN($h^l$)"), ("erank_raw", "erank of $h^l$"), ("pc90_ln", "PCs90 of LN($h^l$)"))
fig, axes = plots.panels(6, max_cols=3, height=2.6)
layers = np.arange(1, L + 1)
for row, (name, meas) in enumerate((("mixer", meas_main), ("no LayerNorm", meas_robust))):
    for col, (q, label) in enumerate(quantities):
        ax = axes[3 * row + col]
        for stage, ls, color in (("trained", "-", "C0"), ("init", "--", "C7")):
            mean, lo, hi = metrics.seed_band(meas.get("potts", q, stage, xi1)[:, 1:])
            plots.band(ax, layers, mean, lo, hi, label=stage, linestyle=ls, color=color)
        mean, lo, hi = metrics.seed_band(meas.get("shuffled", q, "trained", probe=measure.on_chain("potts", xi1))[:, 1:])
        plots.band(ax, layers, mean, lo, hi, label="shuffled chain", linestyle=":", color="C3")
        ax.set(title=f"{name}: {label}", xlabel="layer $l$", xticks=layers)
axes[0].legend()
plt.show()

# %% [markdown]
# ## Finding (ii): selectivity under both readings
#
# {numref}`fig-robust-selectivity` shows the normalised collapse $c = \operatorname{erank}(L) /
# \operatorname{erank}(1)$ of $\mathrm{LN}(h)$ at the two chains, per seed, for both readings.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-selectivity", "caption": "Normalised collapse c = erank(L)/erank(1) of LN(h) on masked rows at xi ~ 1 and xi ~ 7 (potts), mean over seeds with Student-t 95 % bars: trained (solid) and the same networks at initialisation (dashed), for the mixer with LayerNorm (left) and without it (right); grey squares: networks trained on a shuffled chain."}}
fig, axes = plots.panels(2, max_cols=2, height=2.8, sharey=True)
for ax, (name, meas) in zip(axes, (("mixer", meas_main), ("no LayerNorm", meas_robust))):
    for stage, ls, color in (("trained", "-", "C0"), ("init", "--", "C7")):
        iv = [metrics.seed_ci(findings.collapse_by_seed(meas, "potts", xi, stage)) for xi in (xi1, xi7)]
        est = np.array([i.estimate for i in iv])
        ax.errorbar([xi1, xi7], est, [est - [i.low for i in iv], [i.high for i in iv] - est], fmt="o" + ls,
                    color=color, capsize=3, label=stage)
    for xi in (xi1, xi7):
        c = metrics.seed_ci(findings.collapse_by_seed(meas, "shuffled", None, probe=measure.on_chain("potts", xi)))
        ax.errorbar([xi], [c.estimate], [[c.estimate - c.low], [c.high - c.estimate]], fmt="s", color="0.5",
                    capsize=3, label="shuffled chain" if xi == xi1 else None)
    ax.set(xscale="log", title=name, xlabel="correlation length $\\xi$")
    ax.set_xticks([xi1, xi7], [f"{xi1:g}", f"{xi7:g}"])
    ax.minorticks_off()
axes[0].set_ylabel("$c$ = erank($L$) / erank(1)")
axes[0].legend()
plt.show()

# %% [markdown]
# ## Finding (iii): kernel drift under both readings
#
# {numref}`fig-robust-drift` shows the drift $1-\mathrm{CKA}$ of each transition $l \to l+1$ at
# $\xi\approx 1$, the embedding transition shaded.

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-drift", "caption": "Kernel drift 1 - CKA between consecutive layers on masked rows (potts, xi ~ 1), every transition l -> l+1 (the embedding transition 0 -> 1 shaded: the tests without it run over l >= 1), mean over seeds with Student-t 95 % bands: trained (solid), initialisation (dashed), shuffled chain (dotted); the mixer with LayerNorm (left) and without it (right)."}}
fig, axes = plots.panels(2, max_cols=2, height=2.8, sharey=True)
steps = np.arange(0, L)
for ax, (name, meas) in zip(axes, (("mixer", meas_main), ("no LayerNorm", meas_robust))):
    for stage, ls, color in (("trained", "-", "C0"), ("init", "--", "C7")):
        mean, lo, hi = metrics.seed_band(findings.drift_by_seed(meas, "potts", xi1, stage))
        plots.band(ax, steps, mean, lo, hi, label=stage, linestyle=ls, color=color)
    mean, lo, hi = metrics.seed_band(findings.drift_by_seed(meas, "shuffled", None, probe=measure.on_chain("potts", xi1)))
    plots.band(ax, steps, mean, lo, hi, label="shuffled chain", linestyle=":", color="C3")
    ax.axvspan(-0.3, 0.5, color="0.9", zorder=0)
    ax.set(title=name, xlabel="transition $l \\to l+1$ (labelled by $l$)", xticks=steps)
axes[0].set_ylabel("1 - CKA")
axes[0].legend()
plt.show()

# %% [markdown]
# ## Which verdicts depend on the reading
#
# Each claim of the three findings tested under both readings, with its verdict under each (the
# main reading's rows are those of the previous chapters, recomputed here from the same
# measurements). A claim *holds* under a reading when it is reproduced there and *fails* when it is
# not reproduced; where either verdict is inconclusive, a vacuous test or premise not met, the
# comparison is undecided and the table says which reading left it open; the measured statistics
# are shown beside the verdicts either way.

# %% tags=["remove-input"]
main_rows = (findings.rank_collapse_rows(meas_main, run.profile) + findings.selectivity_rows(meas_main, run.profile)
             + findings.kernel_drift_rows(meas_main, run.profile))
robust_rows = findings.robustness_rows(meas_robust, run.profile)
agreement = findings.reading_agreement(main_rows, robust_rows)
Markdown(tables.agreement_markdown(agreement))

# %% [markdown]
# ## Verdict
#
# Rows computed by `rgnb.mlp.findings.robustness_rows`: the registered claims of the three findings
# for the mixer without LayerNorm (`rgnb.mlp.registry.ROBUSTNESS`), with the contrasts, margins,
# premise and primary configuration of the main reading (our claims: the robustness check is ours,
# not the paper's); {numref}`fig-robust-forest` draws the contrasts in units of their margins.

# %% tags=["remove-input"]
claims.record(run, robust_rows, specs=registry.ROBUSTNESS)

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-robust-forest", "caption": "The contrasts of findings (i)-(iii) for the mixer without LayerNorm, exact sign-flip 95 % intervals in units of the registered margins, signed so that the claim's side is positive; colour: the verdict."}}
fig, ax = plots.forest(robust_rows)
plt.show()

# %% [markdown]
# ## Protocol history
#
# The networks without LayerNorm were retrained (8000 steps, tuned on the convergence gate) after
# their first statistics had been seen, so every row of this chapter is post hoc (derived from
# `results/claims_history.json`). Verdicts v3 then re-declared the tests as for the main reading.
