# Two commands do everything on a fresh machine (python3 >= 3.10 and make are all they need):
#   make book   -> set up .venv, execute every chapter (PROFILE=auto|reference|smoke|full) into
#                  _build/runs/<profile>/ (never book/), print the reproduction report against the stored
#                  ledger, build _build/html from the stored notebooks, check it
#   make test   -> set up .venv, unit tests, then pytest --nbval on the stored chapter notebooks (every
#                  claims ledger it computes must equal the committed one byte for byte)
#   make pdf    -> the whole book as one PDF (_build/pdf/book.pdf), printed by headless Chromium
#   make store  -> maintainers: execute at PROFILE=reference (or full) and store the run into book/ +
#                  book/_run/ (full: book/full/ + book/_run/full/); refused on a dirty git tree
# A failing or killed chapter leaves the stored notebooks byte-identical.
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= auto
# torch 2.13.0 is pinned; extra pip arguments choose its build (e.g. a CPU-only index on CI services).
TORCH_PIP_ARGS ?=
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with book/nbval-sanitize.cfg

.PHONY: book execute store build check-site pdf test unit nbval bench mutate clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PY) -m pip install -q -e .
	touch $@

# Sequential on purpose: execute, then build, then check what was built (even under make -j).
book: $(VENV)/.installed
	$(MAKE) execute
	$(MAKE) build
	$(MAKE) check-site

execute: $(VENV)/.installed
	$(PY) -m rgnb execute --profile $(PROFILE)

# The maintainer's step: the only way a run reaches book/ (add ARGS=--allow-dirty to store from a dirty tree).
store: $(VENV)/.installed
	$(PY) -m rgnb execute --profile $(if $(filter auto,$(PROFILE)),reference,$(PROFILE)) --store $(ARGS)

# BUILD_ARGS=--publish: a build to publish, refused while _config.yml's repository url is the placeholder.
build: $(VENV)/.installed
	$(PY) -m rgnb build $(BUILD_ARGS)

check-site: $(VENV)/.installed
	$(PY) -m rgnb check-site

# The whole book as one PDF (_build/pdf/book.pdf): a single-page HTML build printed by headless Chromium (no
# LaTeX), its outline checked for every chapter title and its page count reported.
pdf: $(VENV)/.installed
	$(PY) -m rgnb pdf

test: $(VENV)/.installed
	$(MAKE) unit
	$(MAKE) nbval

unit: $(VENV)/.installed
	$(PY) -m pytest

# book/conftest.py runs the kernels against a temp copy of book/_run and fails if a committed file changes
# or if a claims ledger it computes differs from the committed book/_run/<chapter>.claims.json.
nbval: $(VENV)/.installed
	$(PY) -m pytest $(NBVAL) book/

bench: $(VENV)/.installed
	$(PY) -m rgnb bench train
	$(PY) -m rgnb bench eft

# Mutation testing of the verdict-building code (tools/mutants/*.toml); slow: minutes per mutant.
# It rewrites files in this work tree while it runs: never run it while the book executes.
mutate: $(VENV)/.installed
	$(PY) tools/mutate.py

clean:
	rm -rf _build
