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
# every claim the book makes, read from the claims ledger the chapters wrote (`book/_run/`); no
# verdict on this page is typed.

# %% tags=["parameters"]
# "auto": full on a GPU, else reference.
# The banner below shows what they resolved to.
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("appendix", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
from IPython.display import HTML, Markdown

from rgnb import claims, provenance, site
from rgnb.claims import html as claims_html
from rgnb.mlp import bench

ledgers, ledger_notes = site.load_ledgers()
stored = sorted(ledgers, key=["smoke", "reference", "full"].index)

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
# ## Training speed
#
# The stored runs of the training benchmark (`python -m rgnb bench train --json results/bench/NAME.json`,
# `rgnb.mlp.bench`), one row per run, each on the device it names; M is the number of models
# trained together. *Step*: median time of one batched training step of all M models.
# *Efficiency*: the time the model's MLP matrix products need when timed alone at the same shapes
# (forward and backward), over the step; in parentheses its *ceiling*: those products over the
# step's *kernel floor*, the products plus the model's GELUs and LayerNorms, each also timed alone,
# the best efficiency any arrangement of the step built on these kernels can reach.
# *Kernels / step*: the floor's share of the measured step (what is left is bias broadcasts,
# residual additions, the loss and the optimiser). *× loop*: the batched step against the same
# models trained one at a time, with its ceiling (the loop over the floor). *× pre-issue-12*: the
# step against the layout the book used before its training-speed work (stream (M, N, T, d),
# transpose copies), on the same batches in the same run. CPU rows use the process's CPU time and
# one torch thread, so a busy shared machine does not inflate them.

# %% tags=["remove-input", "nbval-ignore-output"]
Markdown(bench.records_markdown())

# %% [markdown]
# ## How to re-run

# %% tags=["remove-input", "nbval-ignore-output"]
Markdown(site.clone_markdown())

# %% [markdown]
# From a clone of the repository, on a machine with Python >= 3.10 and `make`:
#
# ```bash
# make book                # set up .venv (pinned), execute into _build/runs/ (profile auto), report, build
# make test                # unit tests and pytest --nbval on the stored notebooks
# make book PROFILE=full   # paper scale on a GPU (RGNB_DEVICE=cpu forces the CPU)
# # one chapter, then every built page checked in headless Chromium
# .venv/bin/python -m rgnb execute --profile reference --chapter kernel_eft
# .venv/bin/python -m rgnb.site
# ```
#
# `environment.yml` creates the same environment with conda. Trained networks are cached in
# `.rgnb-cache/` (or `$RGNB_CACHE`) by a hash of their full configuration, so re-executing a
# findings chapter does not retrain. `RGNB_PROFILE=smoke pytest --nbval book/<chapter>.ipynb`
# validates a stored notebook at smoke scale (its numbers then differ from the stored ones). Each
# chapter page ends with a collapsed block giving the exact command that re-executes it. The
# theorems and proofs of the book are indexed in {ref}`the index of theorems and proofs <prf-prf>`.
#
# ## Every claim in the book
#
# One table per kind of claim and per stored profile run, one row per claim (its other
# configurations are sub-rows in its chapter). For the paper claims, the verdict column gives the
# verdict after Holm, the raw one-sided p-value and the Holm-adjusted one over the family of every
# registered paper claim of that run (a raw *reproduced* stands only when its adjusted p is below
# 0.025). Post hoc paper claims are listed with the book's own claims and never counted. Each claim
# links to its row in its chapter, with the full test, premise, contrasts and figure.

# %% tags=["remove-input", "nbval-ignore-output"]
parts = [f"<p><em>{n}</em></p>" for n in ledger_notes]
for p in stored:
    papers = [r for r in ledgers[p] if r.source in claims.PAPERS]
    parts.append(f"<p>At <code>{p}</code>, the paper claims: "
                 f"{claims_html.paper_tally(papers, claims.holm_decisions(ledgers[p]))}</p>")
    for kind, title in (("paper", "Paper claims (P1-P3)"), ("ours", "The book's own claims"),
                        ("sanity check", "Sanity checks")):
        parts.append(f"<p><strong>{title}.</strong></p>{claims_html.summary_table_html(ledgers[p], kind)}")
HTML("".join(parts) if parts else "<p><em>No claims recorded yet: execute the book (<code>make book</code>).</em></p>")

# %% [markdown]
# ## References
#
# ```{bibliography}
# ```
