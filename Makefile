# Two commands do everything on a fresh machine (python3 >= 3.10 and make are all they need):
#   make book   -> set up .venv, execute every chapter (PROFILE=auto|smoke|full), build _build/html
#   make test   -> set up .venv, unit tests, then pytest --nbval on the stored chapter notebooks
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= auto
# torch 2.13.0 is pinned; extra pip arguments choose its build (e.g. a CPU-only index on CI services).
TORCH_PIP_ARGS ?=
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with book/nbval-sanitize.cfg

.PHONY: book execute build test unit nbval bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PY) -m pip install -q -e .
	touch $@

book: execute build

execute: $(VENV)/.installed
	$(PY) -m rgnb execute --profile $(PROFILE)

build: $(VENV)/.installed
	$(PY) -m rgnb build

test: unit nbval

unit: $(VENV)/.installed
	$(PY) -m pytest

nbval: $(VENV)/.installed
	$(PY) -m pytest $(NBVAL) book/

bench: $(VENV)/.installed
	$(PY) -m rgnb bench train
	$(PY) -m rgnb bench eft

clean:
	rm -rf _build
