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
# renormalization group (RG). Every claim in it is a verdict computed by the code in the `rgnb`
# package, shown with its figure and a confidence interval over seeds; where a finding does not
# reproduce, the book says so and shows why. Only the papers' abstracts were public to us, so each
# chapter separates what the authors state from the choices we made to test it.

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("intro", profile=profile, device=device, seed=seed)
run

# %% [markdown]
# ## The three papers and what they claim
#
# **Rank collapse and RG structure of MLP residual networks** {cite}`rankcollapse2026`. A pure MLP
# residual stack (no attention) trained on masked token prediction over synthetic Markov chains with
# known spectra shows (i) an effective rank of the residual stream that decreases monotonically
# with depth after training; (ii) a collapse that is *selective*: present for chains of correlation
# length $\xi \approx 1$, absent for $\xi \approx 7$, measured per position so that mean pooling
# cannot fake it; (iii) inter-layer kernel drift concentrated in one or two transitions, the rest of
# the stack sitting near a fixed point.
#
# **The exponential-family RG theorem** {cite}`gong2026expfam`, generalising the authors' 1D Ising
# result {cite}`gong2022ising`. For input data from a class of exponential-family distributions,
# when a fully connected network reaches its optimal parameters, the characteristic parameters of
# its feature-layer output equal the fixed point of the input's parameters under a real-space RG.
#
# **The collective kernel EFT for pre-activation ResNets** {cite}`kerneleft2026`. The empirical
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
# | Training | Do batched ensembles of MLP residual stacks reach that floor? |
# | Findings (i)-(iii) | Rank collapse, selectivity by correlation length (with a phase diagram in $\xi$), kernel drift concentration. |
# | Exponential-family RG | Exact RG maps checked by Monte Carlo; do trained feature layers land on the RG fixed point? |
# | Kernel EFT | Exact sampler, the closure's ODEs against Monte Carlo, the validity window over depth and width, and a closure that carries the $\sigma$-kernel. |
# | Reproducibility | Environment, hardware, wall times, and the verdict of every claim in the book. |
#
# ## How the book is made, and how to re-run it
#
# Each chapter is a [jupytext](https://jupytext.readthedocs.io) source (`book/<chapter>.py`) paired
# with the `.ipynb` that holds its last reference execution. The notebooks hold narrative, calls and
# plots; every number comes from `rgnb`, whose unit tests check it against closed forms, exact
# identities and Monte Carlo within stated errors. Each chapter starts with a `parameters` cell
# (`profile`, `device`, `seed`) and a banner stating the profile, device, versions and git revision
# it ran with. Two profiles exist: `smoke` runs the whole book on a 2-core CPU in minutes, `full` is
# the paper-scale run for a GPU; `auto` picks `full` when CUDA is present.
#
# ```bash
# make book                      # set up .venv, execute every chapter (profile auto), build _build/html
# make test                      # unit tests, then pytest --nbval on the stored notebooks
# make book PROFILE=full         # the paper-scale run (on a GPU)
# .venv/bin/python -m rgnb execute --profile smoke --chapter chain_spectra   # one chapter
# RGNB_PROFILE=smoke .venv/bin/pytest --nbval book/chain_spectra.ipynb      # validate one stored notebook
# ```
