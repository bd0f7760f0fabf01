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
# # Reproducibility
#
# What every chapter of this book ran with, how long it took, how to re-run it, and the verdict of
# every claim the book makes, collected from the chapters' own computed tables.

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("appendix", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
from IPython.display import Markdown

from rgnb import claims, provenance

# %% [markdown]
# ## Environment and hardware
#
# The versions, device and revision each chapter recorded when it ran (`book/_run/*.provenance.json`):

# %% tags=["remove-input", "nbval-ignore-output"]
Markdown(provenance.provenance_table())

# %% [markdown]
# ## Wall times of the last run
#
# Written by `python -m rgnb execute` (`book/_run/report.md`); each chapter ran in a fresh kernel,
# sequentially, in book order. Later chapters reuse the training cache, so the training chapter
# carries the cost of the networks the findings chapters analyse.

# %% tags=["remove-input", "nbval-ignore-output"]
Markdown(provenance.run_report_markdown())

# %% [markdown]
# ## How to re-run
#
# ```bash
# git clone <this repository> && cd <it>
# make book                 # creates .venv, installs the pinned environment, executes (profile auto), builds
# make test                 # unit tests and pytest --nbval on the stored notebooks
# make book PROFILE=full    # paper scale; on a GPU (CUDA is picked automatically; RGNB_DEVICE=cpu forces the CPU)
# ```
#
# `environment.yml` creates the same environment with conda. Trained networks are cached in
# `.rgnb-cache/` (or `$RGNB_CACHE`) by a hash of their full configuration, so re-executing a
# findings chapter does not retrain. A stored notebook executed at `full` can be validated at smoke
# scale with `RGNB_PROFILE=smoke pytest --nbval book/<chapter>.ipynb` (the numbers then differ;
# the verdict tables are compared as stored only at the profile they were stored with).
#
# ## Every claim in the book
#
# The verdicts below are read from the tables the chapters computed in this run; none is typed.
# A claim marked *ours* tests a choice of this book rather than a statement of the papers.

# %% tags=["remove-input"]
Markdown(claims.summary_markdown())

# %% [markdown]
# ## References
#
# ```{bibliography}
# ```
