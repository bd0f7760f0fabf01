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
# # The renormalization group in deep networks, executed
#
# This book reproduces, tests and extends three 2026 papers that read deep networks through the
# renormalization group (RG). Every verdict below is computed by the code in the `rgnb` package from a
# test registered before the run, with a 95 % confidence interval and a null control; where a claim does
# not reproduce, its chapter says why. Only the papers' abstracts were public to us, so each chapter
# separates what the authors state from the choices we made to test it.
#
# ## What it found
#
# Per paper, every claim with its verdict (after Holm over the registered paper claims); each claim links
# to its row, with the test, the effects and the figure, in its chapter. *Post hoc* marks a claim whose
# test was changed after a result for it had been stored: labelled, never counted.

# %% tags=["parameters"]
# "auto": full on a GPU, else reference.
# The banner below shows what they resolved to.
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("intro", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
from IPython.display import HTML, Markdown

from rgnb import claims, plots, site
from rgnb.claims import html as claims_html

ledgers, ledger_notes = site.load_ledgers()
stored = sorted(ledgers, key=["smoke", "reference", "full"].index)
plots.use_style()

# %% tags=["remove-input", "nbval-ignore-output"]
HTML(claims_html.dashboard_html({p: ledgers[p] for p in stored}))

# %% tags=["remove-input", "nbval-ignore-output"] mystnb={"figure": {"name": "fig-intro-forest", "caption": "Every paper claim at the stored profile: the contrast nearest to deciding it against the claim (the trained object minus a null), with its 95 % interval, in units of the claim's registered margin and signed so that the paper's side is to the right. A presence claim is reproduced when the whole interval lies right of the dashed line at 1; an absence claim when it lies inside the shaded band. Colour and legend: the verdict. The axis is logarithmic beyond 1."}}
fig, ax = plots.paper_forest(ledgers[stored[-1]]) if stored else plots.subplots(1, 1)

# %% tags=["remove-input", "nbval-ignore-output"]
if stored:
    lines = [f"**The stored results.** This book ships with the results of {' and '.join(f'`{p}`' for p in stored)}"
             f" run(s). What a verdict at each profile does and does not show:", ""]
    lines += [f"- {site.profile_note(p)}" for p in stored]
    lines += ["", claims.tally_text(ledgers[stored[-1]], stored[-1])]
else:
    lines = ["**No stored results yet.** Execute the book (`make book`) to compute every verdict."]
Markdown("\n\n".join(["\n".join(lines)] + [f"*{n}*" for n in ledger_notes]))

# %% [markdown]
# ## The three papers and what they claim
#
# **P1. Rank collapse and RG structure of MLP residual networks** {cite}`rankcollapse2026`. A pure
# MLP residual stack (no attention) trained on masked token prediction over synthetic Markov chains
# with known spectra shows (i) an effective rank of the residual stream that decreases
# monotonically with depth after training; (ii) a collapse that is *selective*: present for chains
# of correlation length $\xi \approx 1$, absent for $\xi \approx 7$, measured per position so that
# mean pooling cannot fake it; (iii) inter-layer kernel drift concentrated in one or two
# transitions, the rest of the stack sitting near a fixed point.
#
# **P2. The exponential-family RG theorem** {cite}`gong2026expfam`, generalising the authors' 1D
# Ising result {cite}`gong2022ising`. For input data from a class of exponential-family
# distributions, when a fully connected network reaches its optimal parameters, the characteristic
# parameters of its feature-layer output equal the fixed point of the input's parameters under a
# real-space RG.
#
# **P3. The collective kernel EFT for pre-activation ResNets** {cite}`kerneleft2026`. The empirical
# kernel of a finite-width ResNet at initialisation obeys an exact stochastic recursion in depth.
# Closing it on the kernel alone gives ODEs for the mean kernel, its covariance and the $1/n$ mean
# correction; the authors report the first accurate at all depths, the second failing at finite
# depth-time, the third failing even at initialisation.
#
# ## What this book tests, chapter by chapter
#
# | chapter | question |
# |---|---|
# | [Chain spectra](chain_spectra) | Do our chains have the spectra we claim, and what is the best any predictor can do on the masked task? |
# | [Training](training) | Do batched ensembles of MLP residual stacks reach that floor (the premise of every P1 verdict)? |
# | [Finding (i)](rank_collapse) | Does the effective rank fall monotonically with depth after training (P1)? |
# | [Finding (ii)](selectivity) | Is the collapse selective in the correlation length $\xi$, with a phase diagram in $\xi$ (P1)? |
# | [Finding (iii)](kernel_drift) | Is the inter-layer kernel drift concentrated in one or two transitions (P1)? |
# | [Robustness](robustness) | Do the three findings' verdicts survive a second reading of "pure MLP residual stack", the mixer without LayerNorm (ours)? |
# | [Exponential-family RG](expfam_rg) | Exact RG maps checked by Monte Carlo; do trained feature layers land on the RG fixed point (P2)? |
# | [Kernel EFT](kernel_eft) | Exact sampler, the closure's ODEs against Monte Carlo, the validity window over depth and width, and a closure that carries the $\sigma$-kernel (P3). |
# | [Reproducibility](appendix) | Environment, hardware, wall times, how to re-run, and the verdict of every claim in the book. |
#
# ## How a verdict is made
#
# Each claim is registered in `rgnb` before the run that fills it (verdicts v3,
# `shared/spec/verdicts.md`): its statistic, the nulls it is contrasted with, a margin with a reason
# that does not depend on the results, a premise (for trained networks: every network passes the
# convergence gate at the exact Bayes floor), a primary configuration that decides it, and an
# interval method. The **test is a contrast**: the statistic on the trained object minus the same
# statistic on each null (the same networks at initialisation, networks trained on a shuffled
# chain, the Monte Carlo truth), paired by seed and probe where pairing exists, with an interval
# from an exact sign-flip test over seeds (or a Monte Carlo standard error). The verdict is
# computed, never typed:
#
# | verdict | presence claim ("X falls") | absence claim ("X is absent here") |
# |---|---|---|
# | **reproduced** | every contrast's 95 % CI beyond the margin in the claim's direction | every contrast's CI within +-margin (two one-sided tests) and a positive control detects the effect where the paper says it is present |
# | **not reproduced** | some contrast's whole CI short of the margin | some contrast's whole CI outside +-margin |
# | **inconclusive** | a CI straddles the margin (more seeds would settle it) | a CI straddles, or the positive control cannot see the effect ("underpowered") |
# | **vacuous test** | the same test, with a null in the trained object's place, passes too | the positive control passes the equivalence test too |
# | **premise not met** | the premise failed: no verdict on the claim is drawn | the same |
#
# One row per paper claim, decided by its primary configuration; the other configurations are
# sub-rows ("holds in k of m"), never counted. Every row stores its one-sided p-value, the verdict
# as a function of the margin and its *critical margin* (where the verdict changes); each chapter
# draws its claims' effects against their margins in a forest plot. The paper claims form one
# family: the verdict after Holm over all of them is the one counted. A row whose spec changed
# after a result for it had been stored is **post hoc**, derived from the registration history
# (`results/claims_history.json`), labelled and never counted. *Sanity checks* test the book's own
# machinery against closed forms; *ours* marks claims this book adds.
#
# ## The book's own claims and its sanity checks
#
# The claims this book adds (*ours*: choices we made and test, and findings we add), at the stored
# profile(s):

# %% tags=["remove-input", "nbval-ignore-output"]
HTML("".join(f"<p><strong>At <code>{p}</code>.</strong></p>" + claims_html.summary_table_html(ledgers[p], "ours")
             for p in stored) or "<p><em>No run stored.</em></p>")

# %% [markdown]
# Sanity checks: the machinery against closed forms and exact identities. A failing sanity check
# would invalidate the verdicts that rest on it.

# %% tags=["remove-input", "nbval-ignore-output"]
HTML("".join(f"<p><strong>At <code>{p}</code>.</strong></p>" + claims_html.summary_table_html(ledgers[p], "sanity check")
             for p in stored) or "<p><em>No run stored.</em></p>")

# %% [markdown]
# ## How the book is made, and how to re-run it
#
# Each chapter is a [jupytext](https://jupytext.readthedocs.io) source (`book/<chapter>.py`) paired
# with the `.ipynb` that holds its last reference execution; both can be downloaded from the
# download menu at the top of every page. The notebooks hold narrative, calls and plots; every
# number comes from `rgnb`, whose unit tests check it against closed forms, exact identities and
# Monte Carlo within stated errors. Every page ends with a collapsed block, "How this page was
# computed, and how to re-run it": the profile, device, versions and git revision it ran with, the
# exact command that re-executes it, and its `parameters` cell (`profile`, `device`, `seed`). The
# whole book is also one PDF: `make pdf` prints a single-page build with headless Chromium.
#
# The code, the stored runs and this book's sources live in one git repository; its address is the
# `repository: url` of `_config.yml` (the repository button at the top of every page links to it).
# On a fresh machine with Python >= 3.10 and `make`, after cloning it:
#
# ```bash
# make book   # set up .venv, execute every chapter (profile auto) into _build/runs/, report, build
# make test   # unit tests, then pytest --nbval on the stored notebooks
# ```
#
# Three profiles exist. `smoke` runs the whole book on a 2-core CPU in minutes (CI; not a test of
# the papers; its outputs go to `_build/runs/smoke/`, never over the stored book); `reference` is
# the stored book, re-executable on a laptop CPU; `full` is the papers' scale, for a GPU (outputs in
# `_build/runs/full/`, stored into `book/full/` by `make store PROFILE=full`). `auto` picks `full` where CUDA is present and `reference`
# otherwise. More:
#
# ```bash
# make book PROFILE=full      # the paper-scale run (on a GPU)
# # one chapter; then the HTML from the stored notebooks; then the claims ledger as text
# .venv/bin/python -m rgnb execute --profile reference --chapter rank_collapse
# .venv/bin/python -m rgnb build
# .venv/bin/python -m rgnb claims
# # validate one stored notebook at smoke scale
# RGNB_PROFILE=smoke .venv/bin/pytest --nbval book/chain_spectra.ipynb
# ```
