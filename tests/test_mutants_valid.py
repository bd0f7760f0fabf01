"""Every registered mutant still applies: its ``old`` string occurs exactly once in its file (a refactor that
moves the mutated code must move the mutant with it, or the mutation score silently loses it)."""

import tomllib
from pathlib import Path

import pytest

from rgnb.layout import REPO_ROOT

MUTANTS = [(f.name, m) for f in sorted((REPO_ROOT / "tools" / "mutants").glob("*.toml"))
           for m in tomllib.loads(f.read_text())["mutant"]]


@pytest.mark.parametrize("where,mutant", MUTANTS, ids=[f"{w}: {m['name']}" for w, m in MUTANTS])
def test_each_mutant_applies_once(where, mutant):
    text = (REPO_ROOT / mutant["file"]).read_text()
    assert text.count(mutant["old"]) == 1, f"{where}: {mutant['name']!r} no longer applies to {mutant['file']}"
    assert mutant["old"] != mutant["new"] and mutant["tests"]
