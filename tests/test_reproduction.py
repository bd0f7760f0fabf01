"""rgnb.reproduction: a run's ledgers against the stored ones, row by row and byte for byte."""

import json
import shutil
from pathlib import Path

from rgnb import reproduction

REPO = Path(__file__).resolve().parent.parent
STORED = REPO / "book" / "_run"


def _copy_ledgers(dest: Path) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(STORED.glob("*.claims.json")):
        shutil.copyfile(path, dest / path.name)
        names.append(path.name.removesuffix(".claims.json"))
    return names


def test_identical_ledgers_reproduce(tmp_path):
    names = _copy_ledgers(tmp_path)
    rep = reproduction.compare_runs(STORED, tmp_path, names + ["intro"])
    assert rep.reproduced and rep.rows and not rep.different
    assert "Every row reproduced" in reproduction.report_markdown(rep)
    assert reproduction.ledger_mismatches(STORED, tmp_path) == []


def test_a_one_character_change_to_a_committed_ledger_fails_the_comparison(tmp_path):
    _copy_ledgers(tmp_path)
    committed = tmp_path / "committed"
    _copy_ledgers(committed)
    path = committed / "training.claims.json"
    text = path.read_text()
    i = text.index('"verdict": "') + len('"verdict": "')
    path.write_text(text[:i] + text[i].upper() + text[i + 1:])  # one character
    problems = reproduction.ledger_mismatches(committed, tmp_path)
    assert len(problems) == 1 and problems[0].startswith("training: the computed ledger differs from the committed")
    assert "verdict" in problems[0]
    whitespace = committed / "expfam_rg.claims.json"  # even a change no parser sees
    whitespace.write_text(whitespace.read_text() + " ")
    assert [p.split(":")[0] for p in reproduction.ledger_mismatches(committed, tmp_path)] == ["expfam_rg", "training"]


def test_a_ledger_without_a_committed_one_is_reported(tmp_path):
    (tmp_path / "new.claims.json").write_text(json.dumps({"rows": []}))
    assert reproduction.ledger_mismatches(tmp_path / "empty", tmp_path) == [
        f"new: computed a ledger but {tmp_path / 'empty' / 'new.claims.json'} is not committed"]


def test_the_report_lists_a_differing_row_with_both_values(tmp_path):
    stored, run = tmp_path / "stored", tmp_path / "run"
    for d in (stored, run):
        d.mkdir()
    rows = [{"id": "a", "verdict": "reproduced", "effects": {"null": {"low": 0.1, "high": 0.3}}},
            {"id": "gone", "verdict": "inconclusive"}]
    (stored / "ch.claims.json").write_text(json.dumps({"rows": rows}))
    new = [{"id": "a", "verdict": "not reproduced", "effects": {"null": {"low": -0.2, "high": 0.3}}},
           {"id": "added", "verdict": "reproduced"}]
    (run / "ch.claims.json").write_text(json.dumps({"rows": new}))
    rep = reproduction.compare_runs(stored, run, ["ch"])
    assert not rep.reproduced and len(rep.identical) == 0
    text = reproduction.report_markdown(rep)
    assert "0 of 3 rows identical, 3 differ" in text
    assert "ch / a: differs in 2 field(s)" in text
    assert "effects.null.low: stored 0.1, this run -0.2" in text
    assert 'verdict: stored "reproduced", this run "not reproduced"' in text
    assert "ch / gone: only stored" in text and "ch / added: only this run" in text
