"""rgnb.claims (verdicts v3): the rule, margins, the Holm family, registration and the ledger."""

import itertools
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from rgnb import claims, effects
from rgnb.claims import registry, rule


def spec(**kw):
    base = dict(id="P1-x", chapter="ch", source="P1", claim="x falls", statistic="x per seed", kind="presence",
                direction="below", margin=0.1, margin_reason="a physical scale", premise="trained",
                primary="potts", interval="sign-flip", contrasts=("initialisation", "shuffled chain"),
                figure="fig-x")
    if kw.get("kind") == "absence":
        base["positive_control"] = "where the effect is present"
    base.update(kw)
    return claims.ClaimSpec(**base)


def eff(center, spread=0.01, n=10, seed=0):
    """A sign-flip effect of n paired differences centred at ``center`` (deterministic)."""
    z = np.random.default_rng(seed).standard_normal(n)
    z = (z - z.mean()) / z.std()
    return effects.from_differences(center + spread * z)


def ev(contrasts, **kw):
    return claims.Evidence("potts", contrasts, **kw)


def evaluate(s, e, **kw):
    return claims.evaluate(s, e, profile="reference", events=[], **kw)


# --------------------------------------------------------------------------- presence
@pytest.mark.parametrize("a,b,expected", [
    (-0.5, -0.5, claims.REPRODUCED),
    (-0.5, -0.02, claims.NOT_REPRODUCED),   # one contrast wholly short of -0.1
    (-0.5, -0.1, claims.INCONCLUSIVE),      # straddles -0.1
    (0.3, 0.3, claims.NOT_REPRODUCED),
])
def test_presence_rule(a, b, expected):
    row = evaluate(spec(), ev({"initialisation": eff(a), "shuffled chain": eff(b)}))
    assert row.verdict == expected


def test_a_noisy_null_never_blocks_a_large_effect():
    """v2's flaw: a null whose own CI straddles the threshold blocked 'reproduced'. In v3 the contrast
    against that null decides, and a large effect beyond a noisy null is reproduced."""
    noisy_null_contrast = eff(-1.0, spread=0.3)  # the effect minus a very noisy null, still far beyond -0.1
    row = evaluate(spec(), ev({"initialisation": eff(-1.0), "shuffled chain": noisy_null_contrast}))
    assert row.verdict == claims.REPRODUCED


def test_placebo_makes_a_test_vacuous():
    s = spec(placebo="the shuffled-chain network in the trained network's place")
    row = evaluate(s, ev({"initialisation": eff(-0.5)}, placebo={"shuffled minus init": eff(-0.5)}))
    assert row.verdict == claims.VACUOUS
    row = evaluate(s, ev({"initialisation": eff(-0.5)}, placebo={"shuffled minus init": eff(0.0)}))
    assert row.verdict == claims.REPRODUCED


def test_premise_not_met_draws_no_verdict():
    row = evaluate(spec(), ev({"initialisation": eff(-0.5)}, premise_met=False, premise_detail="3/10 pass"))
    assert row.verdict == claims.PREMISE_NOT_MET and row.p_value is None


# --------------------------------------------------------------------------- absence (TOST)
def test_tost_on_equivalent_and_non_equivalent_data():
    s = spec(kind="absence")
    control = {"xi ~ 1": eff(-0.5)}
    assert evaluate(s, ev({"initialisation": eff(0.0)}, positive_control=control)).verdict == claims.REPRODUCED
    assert evaluate(s, ev({"initialisation": eff(0.5)}, positive_control=control)).verdict == claims.NOT_REPRODUCED
    assert evaluate(s, ev({"initialisation": eff(0.09, 0.03)}, positive_control=control)).verdict == claims.INCONCLUSIVE


def test_absence_needs_power():
    s = spec(kind="absence")
    within = evaluate(s, ev({"initialisation": eff(0.0)}, positive_control={"c": eff(0.0)}))
    assert within.verdict == claims.VACUOUS
    weak = evaluate(s, ev({"initialisation": eff(0.0)}, positive_control={"c": eff(-0.12, 0.05)}))
    assert weak.verdict == claims.INCONCLUSIVE and "underpowered" in weak.reason
    with pytest.raises(ValueError, match="positive control"):
        evaluate(s, ev({"initialisation": eff(0.0)}))
    with pytest.raises(ValueError, match="positive_control"):
        spec(kind="absence", positive_control="")


def test_tost_p_value_is_the_larger_one_sided_p():
    s = spec(kind="absence")
    e = eff(0.02, 0.05)
    row = evaluate(s, ev({"initialisation": e}, positive_control={"c": eff(-0.5)}))
    want = max(e.p_above(-0.1), e.p_below(0.1), min(1.0, eff(-0.5).p_below(-0.1)))
    assert row.p_value == pytest.approx(float(f"{want:.2g}"))


# --------------------------------------------------------------------------- margins
RANK = {claims.REPRODUCED: 3, claims.INCONCLUSIVE: 2, claims.VACUOUS: 1, claims.NOT_REPRODUCED: 0}


@pytest.mark.parametrize("kind,centers", [("presence", (-0.3, -0.12)), ("presence", (-0.05, 0.2)),
                                          ("absence", (0.04, -0.02))])
def test_tightening_a_margin_never_improves_a_presence_verdict(kind, centers):
    """Presence: a larger margin is a stricter claim, so the verdict can only get worse (not vacuous:
    no placebo). Absence: a smaller margin is stricter."""
    contrasts = {"a": eff(centers[0], 0.03), "b": eff(centers[1], 0.03, seed=1)}
    control = {"c": eff(-0.8)} if kind == "absence" else {}
    margins = np.linspace(0.0, 0.5, 51)
    got = [RANK[rule.decide(spec(kind=kind), ev(contrasts, positive_control=control), m).verdict] for m in margins]
    if kind == "absence":
        got = got[::-1]
    assert all(x >= y for x, y in zip(got, got[1:])), got


def test_margin_segments_and_critical_margin_agree_with_the_rule():
    s = spec()
    e = ev({"initialisation": eff(-0.3, 0.02), "shuffled chain": eff(-0.2, 0.02, seed=3)})
    segs = rule.margin_segments(s, e)
    assert segs[0][0] == 0.0 and math.isinf(segs[-1][1])
    for a, b, v in segs:
        mid = (a + b) / 2 if math.isfinite(b) else a + 1
        assert rule.decide(s, e, mid).verdict == v
    crit = rule.critical_margin(s, segs)
    low = e.contrasts["shuffled chain"].interval().high  # the nearest change: where the shuffled CI leaves -m
    assert crit == pytest.approx(min((x for a, b, _ in segs for x in (a, b) if 0 < x < math.inf),
                                     key=lambda x: abs(x - s.margin)))
    assert rule.decide(s, e, crit - 1e-6).verdict != rule.decide(s, e, crit + 1e-6).verdict
    assert low < 0


def test_the_row_stores_its_margin_profile():
    row = evaluate(spec(), ev({"initialisation": eff(-0.3, 0.02)}))
    assert row.verdict == claims.REPRODUCED and row.critical_margin is not None
    assert [v for *_, v in row.margin_segments] == [claims.REPRODUCED, claims.INCONCLUSIVE, claims.NOT_REPRODUCED]


# --------------------------------------------------------------------------- configurations
def test_one_row_per_claim_with_sub_rows_and_relabelling_does_not_matter():
    primary = ev({"initialisation": eff(-0.5)})
    others = [claims.Evidence(f"cfg{i}", {"initialisation": eff(c)}) for i, c in enumerate((-0.5, 0.0, -0.5))]
    a = evaluate(spec(), primary, others=others)
    renamed = [claims.Evidence(f"other {k}", o.contrasts) for k, o in zip("zyx", others)][::-1]
    b = evaluate(spec(), primary, others=renamed)
    assert a.verdict == b.verdict == claims.REPRODUCED and a.p_value == b.p_value
    assert a.holds == b.holds == "2 of 3"
    assert [s["verdict"] for s in a.subrows] == [claims.REPRODUCED, claims.NOT_REPRODUCED, claims.REPRODUCED]


def test_interval_method_must_match_the_registration():
    with pytest.raises(ValueError, match="registers interval"):
        evaluate(spec(interval="normal-se"), ev({"initialisation": eff(-0.5)}))


def test_specs_refuse_missing_reasons_and_contrasts():
    with pytest.raises(ValueError, match="margin_reason"):
        spec(margin_reason="")
    with pytest.raises(ValueError, match="contrasts"):
        spec(contrasts=())
    with pytest.raises(ValueError, match="only a 'sanity check' may be a check"):
        spec(kind="check")
    with pytest.raises(ValueError, match="margin"):
        spec(margin=-0.1)


# --------------------------------------------------------------------------- Holm family
def _row(id_, p, verdict=claims.REPRODUCED, source="P1", post_hoc=False):
    base = evaluate(spec(id=id_, source=source), ev({"initialisation": eff(-0.5)}))
    return claims.Row(**{**base.to_json(), "p_value": p, "verdict": verdict, "post_hoc": post_hoc})


def test_holm_over_every_registered_paper_row():
    rows = [_row("a", 0.01), _row("b", 0.004), _row("c", 0.03, claims.INCONCLUSIVE), _row("d", 0.5, claims.NOT_REPRODUCED),
            _row("e", 0.0001, post_hoc=True), _row("f", 0.001, source="ours")]
    adj = claims.holm_adjusted(rows)
    assert set(adj) == {"a", "b", "c", "d"}  # every registered paper row, not only the reproduced ones
    assert adj["b"] == pytest.approx(0.016) and adj["a"] == pytest.approx(0.03)
    dec = claims.holm_decisions(rows)
    assert dec["b"] == claims.REPRODUCED and dec["a"] == claims.INCONCLUSIVE and dec["d"] == claims.NOT_REPRODUCED
    assert "e" not in dec and "f" not in dec


def test_tally_text_counts_registered_claims_after_holm_and_post_hoc_apart():
    rows = [_row("a", 0.02), _row("b", 0.004), _row("c", 0.5, claims.NOT_REPRODUCED), _row("e", 0.0001, post_hoc=True)]
    text = claims.tally_text(rows, "reference")
    assert "4 paper claims" in text and "m = 3" in text and "1 reproduced, 1 not reproduced, 1 inconclusive" in text
    assert "Post hoc (labelled, not counted): 1 reproduced" in text


# --------------------------------------------------------------------------- registration
def test_spec_hash_covers_the_test_not_the_wording():
    s = spec()
    assert spec(claim="reworded").spec_hash() == s.spec_hash()
    assert spec(margin_reason="other words").spec_hash() == s.spec_hash()
    for change in (dict(margin=0.2), dict(direction="above"), dict(primary="ring"), dict(contrasts=("initialisation",)),
                   dict(statistic="y"), dict(interval="normal-se")):
        assert spec(**change).spec_hash() != s.spec_hash(), change


def test_post_hoc_is_derived_from_the_history():
    s = spec()
    reg = {"event": "register", "claim": s.id, "spec_hash": s.spec_hash(), "date": "d1"}
    result = {"event": "result", "claim": s.id, "spec_hash": s.spec_hash(), "date": "d2", "what": "stored"}
    change = {"event": "change", "claim": s.id, "spec_hash": "new", "date": "d3", "what": "margin moved"}
    rule_event = {"event": "rule", "claims": ["*"], "date": "d3"}
    assert registry.post_hoc(s, [reg, result]) == (False, "")
    assert registry.post_hoc(s, [reg, result, rule_event])[0] is False  # a rule change for every claim alike
    hoc, why = registry.post_hoc(s, [reg, result, change])
    assert hoc and "margin moved" in why
    assert registry.post_hoc(s, [change, reg])[0] is False  # a change before any result is not post hoc
    replacing = spec(id="P1-new", replaces=s.id)
    assert registry.post_hoc(replacing, [reg, result, {"event": "register", "claim": "P1-new", "date": "d4"}])[0]


def test_record_refuses_an_unregistered_spec(tmp_path):
    s = spec(chapter="ch")
    run = SimpleNamespace(chapter="ch", profile="reference")
    row = evaluate(s, ev({"initialisation": eff(-0.5)}))
    with pytest.raises(ValueError, match="python -m rgnb claims register"):
        claims.record(run, [row], tmp_path, specs=[s], events=[])
    events = [{"event": "register", "claim": s.id, "spec_hash": s.spec_hash()}]
    claims.record(run, [row], tmp_path, specs=[s], events=events)
    changed = spec(chapter="ch", margin=0.2)
    with pytest.raises(ValueError, match="not the registered one"):
        claims.record(run, [row], tmp_path, specs=[changed], events=events)


def test_register_appends_register_change_and_result_events(tmp_path):
    path = tmp_path / "history.json"
    s = spec()
    new = registry.register({s.id: s}, [], path, date="d1")
    assert [e["event"] for e in new] == ["register"]
    assert registry.register({s.id: s}, [], path, date="d2") == []
    row = evaluate(s, ev({"initialisation": eff(-0.5)}))
    assert [e["event"] for e in registry.register({s.id: s}, [row], path, date="d3")] == ["result"]
    moved = spec(margin=0.2)
    assert [e["event"] for e in registry.register({s.id: moved}, [], path, date="d4")] == ["change"]
    assert registry.post_hoc(moved, registry.load_history(path))[0]


def test_every_stored_row_carries_its_registered_spec_hash():
    """The committed ledger follows the registries: a row whose spec changed since the run fails here."""
    specs = registry.all_specs()
    events = registry.load_history()
    rows = claims.load_ledger()
    assert rows, "no stored ledger"
    for r in rows:
        assert r.id in specs, f"stored row {r.id!r} has no registered spec"
        assert r.spec_hash == specs[r.id].spec_hash() == registry.registered_hash(r.id, events), r.id


# --------------------------------------------------------------------------- ledger
def test_record_and_load_round_trip_deterministically(tmp_path):
    s = spec(chapter="ch")
    run = SimpleNamespace(chapter="ch", profile="reference")
    rows = [evaluate(s, ev({"initialisation": eff(-0.5)}))]
    claims.record(run, rows, tmp_path)
    first = (tmp_path / "ch.claims.json").read_text()
    claims.record(run, rows, tmp_path)
    assert (tmp_path / "ch.claims.json").read_text() == first
    assert json.loads(first)["schema"] == claims.SCHEMA
    assert claims.load_ledger(tmp_path) == rows


def test_tables_render_every_row_with_anchor_effects_and_margin():
    rows = [evaluate(spec(), ev({"initialisation": eff(-0.5)}, note="n"),
                     others=[claims.Evidence("ring", {"initialisation": eff(0.0)})])]
    md = claims.chapter_markdown(rows)
    assert claims.anchor("P1-x") in md and "initialisation: -0.5" in md and "holds in 0 of 1" in md
    assert "reproduced below" in md
    assert "P1" in claims.dashboard_markdown({"reference": rows})


def test_findings_say_what_was_found_and_why_a_claim_failed():
    ok = evaluate(spec(), ev({"initialisation": eff(-0.5)}, note="n = 3 seeds"))
    bad = evaluate(spec(id="P1-y", claim="y falls"), ev({"initialisation": eff(0.3)}))
    hoc = evaluate(spec(id="P1-z", claim="z falls"), ev({"initialisation": eff(-0.5)}, premise_met=False,
                                                        premise_detail="2 of 10 networks above the gate"))
    md = claims.findings_markdown([ok, bad, hoc])
    lines = md.splitlines()
    assert len(lines) == 3 and all(line.startswith("- **") for line in lines)
    assert "**reproduced**" in lines[0] and "initialisation: -0.5" in lines[0] and "N = 3 seeds" in lines[0]
    assert "Why" not in lines[0]
    assert "**not reproduced**" in lines[1] and "Why: the contrast with initialisation lies wholly short" in lines[1]
    assert "Why: 2 of 10 networks above the gate" in lines[2]


def test_every_verdict_is_reachable():
    seen = set()
    control = {"c": eff(-0.5)}
    for kind, center, ctrl, premise in itertools.product(("presence", "absence"), (-0.5, -0.1, 0.0, 0.5),
                                                         (control, {"c": eff(0.0)}), (True, False)):
        s = spec(kind=kind)
        e = ev({"initialisation": eff(center, 0.03)}, positive_control=ctrl if kind == "absence" else {},
               placebo={} if kind == "absence" else {"p": eff(center, 0.03)} if ctrl is control else {},
               premise_met=premise)
        if kind == "presence" and e.placebo:
            s = spec(placebo="null in place")
        seen.add(evaluate(s, e).verdict)
    assert seen == set(claims.VERDICTS)


def test_protocol_history_leaves_out_the_results_of_the_registered_specs():
    """A chapter that lists its history must not change when its own results are registered."""
    s = spec()
    events = [{"event": "result", "claim": s.id, "what": "v1"},
              {"event": "change", "claim": s.id, "what": "v2"},
              {"event": "rule", "claims": ["*"], "what": "v3"},
              {"event": "register", "claim": s.id, "spec_hash": s.spec_hash()},
              {"event": "result", "claim": s.id, "spec_hash": s.spec_hash(), "what": "reference: reproduced"},
              {"event": "register", "claim": "other", "spec_hash": "x"}]
    got = registry.protocol_history({s.id}, events)
    assert [e.get("what") for e in got] == ["v1", "v2", "v3", None]
    assert registry.protocol_history({s.id}, events[:4]) == got


def test_round_off_below_the_floor_is_stored_as_the_floor_so_ledgers_agree_across_cpus():
    check = spec(id="sanity-x", source=claims.SANITY, kind="check", direction="below", margin=1e-10, contrasts=(),
                 interval="exact")
    rows = [claims.evaluate(check, claims.Evidence("grid", {"value": effects.exact(x)}), profile="reference",
                            floor=1e-12, events=[]).to_json() for x in (2.66e-15, 3.22e-15, 0.0)]
    assert rows[0] == rows[1] == rows[2]
    assert rows[0]["effects"]["value"]["estimate"] == 1e-12 and rows[0]["effects"]["value"]["text"] == "< 1e-12"
    assert rows[0]["critical_margin"] == 1e-12 and rows[0]["verdict"] == claims.REPRODUCED
    above = claims.evaluate(check, claims.Evidence("grid", {"value": effects.exact(2.5e-11)}), profile="reference",
                            floor=1e-12, events=[])
    assert above.effects["value"]["estimate"] == 2.5e-11  # above the floor: the number itself


def test_history_lines_and_markdown_name_the_claims_each_event_touches():
    events = [{"event": "register", "claim": "a", "spec_hash": "h1", "date": "d1"},
              {"event": "result", "claim": "a", "spec_hash": "h1", "date": "d2", "what": "reference: reproduced"},
              {"event": "change", "claim": "a", "spec_hash": "h2", "date": "d3", "what": "margin moved"},
              {"event": "rule", "claims": ["*"], "date": "d4", "what": "v3"},
              {"event": "register", "claim": "b", "spec_hash": "h3", "date": "d5"}]
    lines = registry.history_lines({"a"}, events)
    assert lines == ["d1 register a: h1", "d2 result   a: reference: reproduced", "d3 change   a: margin moved",
                     "d4 rule     every claim: v3"]
    md = registry.history_markdown({"a"}, events).splitlines()
    assert md[-1] == "- d4, **rule** (every claim): v3" and md[2] == "- d3, **change** (a): margin moved"
    assert not any("b" in ln.split("(")[-1] for ln in md)
