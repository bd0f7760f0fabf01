"""Tests of rgnb.prose: every number typed in the checked chapters' prose is bound to a computed value."""

import json
import shutil

import pytest

from rgnb import prose


@pytest.fixture(scope="module")
def bindings():
    return prose.bindings()


@pytest.mark.parametrize("chapter", prose.CHAPTERS)
def test_the_prose_says_what_the_code_and_the_ledger_hold(chapter, bindings):
    assert prose.problems(chapter, bindings) == []


def test_every_checked_chapter_has_bindings(bindings):
    assert {b.chapter for b in bindings} == set(prose.CHAPTERS)


def _copy(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    for chapter in prose.CHAPTERS:
        shutil.copy(prose.BOOK_DIR / f"{chapter}.py", book)
    return book


def test_a_stale_number_in_the_prose_fails(tmp_path, bindings):
    book = _copy(tmp_path)
    text = (book / "training.py").read_text()
    (book / "training.py").write_text(text.replace("trains the main reading 5000 steps",
                                                   "trains the main reading 4000 steps"))
    found = prose.problems("training", bindings, book)
    assert any("does not say 'trains the main reading 5000 steps'" in p for p in found)
    assert any("the number 4000 is bound to no computed value" in p for p in found)


def test_a_changed_ledger_margin_fails_the_prose(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(prose.RUN_DIR, run, ignore=shutil.ignore_patterns("full"))
    path = run / "training.claims.json"
    data = json.loads(path.read_text())
    for row in data["rows"]:
        if row["id"] == "training-gate-excess":
            row["margin"] = 0.02
    path.write_text(json.dumps(data))
    found = prose.problems("training", prose.bindings(run))
    assert any("the gate's 0.02 nats" in p and "ledger: claim training-gate-excess" in p for p in found)
    assert prose.problems("training", prose.bindings(prose.RUN_DIR)) == []


def test_a_new_unbound_number_fails_but_math_code_and_exceptions_do_not(tmp_path, bindings):
    book = _copy(tmp_path)
    path = book / "selectivity.py"
    path.write_text(path.read_text() + "\n# %% [markdown]\n# A new claim: 12 of 20 networks, $x = 0.75$, `lr = 0.3`.\n")
    found = prose.problems("selectivity", bindings, book)
    assert [p.split(" is bound")[0] for p in found] == ["selectivity: the number 12", "selectivity: the number 20"]
    assert prose.problems("intro", bindings, book) == []  # "three 2026 papers" is an exception


def test_a_ledger_without_the_claim_is_refused(tmp_path):
    (tmp_path / "x.claims.json").write_text(json.dumps({"rows": [{"id": "a", "margin": 1.0}]}))
    assert prose.ledger_margin("x", "a", tmp_path) == 1.0
    with pytest.raises(ValueError, match="must appear once"):
        prose.ledger_margin("x", "b", tmp_path)


def test_kernel_eft_prose_follows_its_sizes_and_test_times(tmp_path, bindings):
    """The chapter's depth-time range and test times are bound: a prose that kept the old T = 4 fails."""
    book = _copy(tmp_path)
    text = (book / "kernel_eft.py").read_text()
    (book / "kernel_eft.py").write_text(text.replace("up to $T$, now 16)", "up to $T$, now 4)")
                                        .replace("times $t$ = 1, 2, 4, 8, 16", "times $t$ = 1, 2, 4"))
    found = prose.problems("kernel_eft", bindings, book)
    assert any("does not say 'up to $T$, now 16)'" in p for p in found)
    assert any("does not say 'times $t$ = 1, 2, 4, 8, 16'" in p for p in found)
