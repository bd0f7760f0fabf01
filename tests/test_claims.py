"""rgnb.claims: declared claims, the verdict rule, the ledger and its tables."""

import itertools
import json
from types import SimpleNamespace

import pytest

from rgnb import claims, stats
from rgnb.stats import Interval


def spec(**kw):
    base = dict(id="P1-x", chapter="ch", source="P1", claim="x is small", statistic="x", threshold=0.25,
                passes="below", premise="trained", null_control="initialisation", ci_method="student-t",
                figure="fig-x")
    base.update(kw)
    return claims.ClaimSpec(**base)


def iv(low, high, method="student-t", n=10):
    return Interval((low + high) / 2, low, high, 0.95, method, n)


PASS, FAIL, STRADDLE = iv(0.05, 0.2), iv(0.3, 0.7), iv(0.1, 0.4)


def evaluate(measured, null=None, premise_met=True, floor=None, **kw):
    return claims.evaluate(spec(**kw), measured, null=null, premise_met=premise_met, profile="reference", floor=floor)


@pytest.mark.parametrize("measured,null,premise,expected", [
    (PASS, FAIL, True, claims.REPRODUCED),
    (PASS, PASS, True, claims.VACUOUS),
    (PASS, STRADDLE, True, claims.INCONCLUSIVE),
    (FAIL, FAIL, True, claims.NOT_REPRODUCED),
    (FAIL, PASS, True, claims.NOT_REPRODUCED),
    (STRADDLE, FAIL, True, claims.INCONCLUSIVE),
    (STRADDLE, PASS, True, claims.INCONCLUSIVE),
    (PASS, FAIL, False, claims.PREMISE_NOT_MET),
    (FAIL, PASS, False, claims.PREMISE_NOT_MET),
])
def test_each_verdict_comes_only_from_its_conditions(measured, null, premise, expected):
    assert evaluate(measured, null, premise).verdict == expected


def test_the_rule_over_every_combination():
    """Exhaustive: the five verdicts partition (premise, measured side, null sides) as verdicts.md says."""
    sides = {"pass": PASS, "fail": FAIL, "straddle": STRADDLE}
    seen = set()
    for premise, m, n1, n2 in itertools.product([True, False], sides, sides, sides):
        got = evaluate(sides[m], {"a": sides[n1], "b": sides[n2]}, premise).verdict
        if not premise:
            want = claims.PREMISE_NOT_MET
        elif m == "fail":
            want = claims.NOT_REPRODUCED
        elif m == "straddle":
            want = claims.INCONCLUSIVE
        elif "pass" in (n1, n2):
            want = claims.VACUOUS
        elif "straddle" in (n1, n2):
            want = claims.INCONCLUSIVE
        else:
            want = claims.REPRODUCED
        assert got == want, (premise, m, n1, n2)
        seen.add(got)
    assert seen == set(claims.VERDICTS)


@pytest.mark.parametrize("passes,low,high,expected", [
    ("above", 0.3, 0.5, claims.REPRODUCED), ("above", 0.0, 0.2, claims.NOT_REPRODUCED),
    ("above", 0.2, 0.3, claims.INCONCLUSIVE), ("below", 0.25, 0.3, claims.NOT_REPRODUCED),
    ("above", 0.1, 0.25, claims.NOT_REPRODUCED)])
def test_direction_and_boundaries(passes, low, high, expected):
    null = iv(-1.0, -0.5) if passes == "above" else iv(1.0, 2.0)
    assert evaluate(iv(low, high), null, passes=passes).verdict == expected


def test_sanity_checks_need_no_null_but_claims_do():
    row = claims.evaluate(spec(source="sanity check", null_control=""), PASS, profile="smoke")
    assert row.verdict == claims.REPRODUCED and row.null == {}
    with pytest.raises(ValueError, match="null_control"):
        spec(null_control="")
    with pytest.raises(ValueError, match="null control measured"):
        evaluate(PASS, None)


@pytest.mark.parametrize("bad,match", [
    (dict(source="P4"), "source"), (dict(passes="near"), "passes"), (dict(ci_method="guess"), "ci_method"),
    (dict(threshold=float("nan")), "threshold"), (dict(claim=" "), "claim"), (dict(premise=""), "premise")])
def test_spec_rejects_bad_declarations(bad, match):
    with pytest.raises(ValueError, match=match):
        spec(**bad)


def test_evaluate_rejects_mismatched_or_thin_intervals():
    with pytest.raises(ValueError, match="ci_method"):
        evaluate(iv(0.0, 0.1, method="normal-se"), FAIL)
    with pytest.raises(ValueError, match="n >= 30"):
        claims.evaluate(spec(ci_method="percentile"), iv(0.0, 0.1, "percentile", 10), null=iv(1, 2, "percentile", 10),
                        profile="smoke")
    with pytest.raises(ValueError, match="profile"):
        claims.evaluate(spec(), PASS, null=FAIL, profile="medium")


def test_p_value_comes_from_the_interval():
    row = evaluate(stats.mean_ci([0.1, 0.12, 0.09, 0.11, 0.1, 0.13, 0.08, 0.1, 0.12, 0.11]), FAIL)
    assert row.verdict == claims.REPRODUCED and 0 <= row.p_value < 1e-4


def test_record_writes_a_deterministic_schema_2_ledger(tmp_path):
    run = SimpleNamespace(chapter="ch", profile="reference")
    rows = [evaluate(PASS, FAIL), evaluate(STRADDLE, FAIL, id="P1-y", floor=1e-12)]
    table = claims.record(run, rows, directory=tmp_path)
    first = (tmp_path / "ch.claims.json").read_bytes()
    claims.record(run, rows, directory=tmp_path)
    assert (tmp_path / "ch.claims.json").read_bytes() == first
    data = json.loads(first)
    assert data["schema"] == 2 and data["profile"] == "reference" and len(data["rows"]) == 2
    required = {"id", "source", "claim", "premise", "premise_met", "measured", "null_control", "null", "ci_method",
                "n", "profile", "verdict", "figure", "p_value"}
    assert required <= set(data["rows"][0])
    md = table._repr_markdown_()
    assert "{numref}`fig-x`" in md and "**reproduced**" in md and "Profile `reference`" in md
    assert 'id="claim-P1-y"' in md
    with pytest.raises(ValueError, match="unique"):
        claims.record(run, rows + rows[:1], directory=tmp_path)
    with pytest.raises(ValueError, match="belongs"):
        claims.record(SimpleNamespace(chapter="other", profile="reference"), rows, directory=tmp_path)


def test_round_off_values_are_stored_as_bounds():
    row = claims.evaluate(spec(source="sanity check", null_control="", ci_method="exact"), stats.exact(2.7e-15),
                          profile="smoke", floor=1e-12)
    assert row.measured["text"] == "< 1e-12" and row.verdict == claims.REPRODUCED


def test_ledger_tables_separate_kinds_and_apply_holm(tmp_path, monkeypatch):
    monkeypatch.setattr("rgnb.execute.chapters", lambda *a, **k: ["ch"])
    run = SimpleNamespace(chapter="ch", profile="reference")
    strong = stats.mean_ci([0.1] * 5 + [0.11] * 5)
    weak = Interval(0.2, 0.16, 0.24, 0.95, "student-t", 3)     # passes alone, p close to 0.025
    rows = [evaluate(strong, FAIL, id="P1-a"), evaluate(weak, FAIL, id="P1-b"), evaluate(weak, FAIL, id="P2-c", source="P2"),
            evaluate(PASS, FAIL, id="ours-d", source="ours"),
            evaluate(PASS, None, id="s-e", source="sanity check", null_control="")]
    claims.record(run, rows, directory=tmp_path)
    ledger = claims.load_ledger(tmp_path)
    assert [r.id for r in ledger] == ["P1-a", "P1-b", "P2-c", "ours-d", "s-e"]
    holm = claims.holm_decisions(ledger)
    assert set(holm) == {"P1-a", "P1-b", "P2-c"}
    assert holm["P1-a"].startswith("reproduced (Holm") and holm["P1-b"].startswith("inconclusive after Holm")
    paper = claims.ledger_markdown(ledger, "paper")
    assert "claim-P1-a" in paper and "3 paper rows" in paper and "ours-d" not in paper
    assert "1 ours rows" in claims.ledger_markdown(ledger, "ours")
    assert "1 sanity check rows" in claims.ledger_markdown(ledger, "sanity check")
    dash = claims.dashboard_markdown({"reference": ledger, "full": []})
    assert "verdict at `reference`" in dash and "full" not in dash and dash.count("ch.html#claim-") == 3
    assert json.loads(claims.ledger_json(ledger))[0]["holm"].startswith("reproduced")


def test_ledger_refuses_old_files(tmp_path, monkeypatch):
    monkeypatch.setattr("rgnb.execute.chapters", lambda *a, **k: ["ch"])
    (tmp_path / "ch.claims.json").write_text("[]")
    with pytest.raises(ValueError, match="schema-2"):
        claims.load_ledger(tmp_path)
