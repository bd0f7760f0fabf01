"""Tests of rgnb.site.ledgers: every stored run's claims rows, per profile."""

import json

from rgnb import site


def _row(rid, chapter="chain_spectra", source="P1", profile="reference", verdict="reproduced"):
    from rgnb import claims, effects

    spec = claims.ClaimSpec(id=rid, chapter=chapter, source=source, claim=f"claim {rid}", statistic="s",
                            kind="check" if source == "sanity check" else "presence", direction="above", margin=0.0,
                            margin_reason="r", premise="p", primary="c", interval="exact",
                            contrasts=() if source == "sanity check" else ("n",))
    ev = claims.Evidence("c", {"value" if source == "sanity check" else "n": effects.exact(1.0)})
    row = claims.evaluate(spec, ev, profile=profile, events=[])
    return {**row.to_json(), "verdict": verdict}


def test_load_ledgers_groups_by_the_rows_profile_and_names_legacy_chapters(tmp_path):
    ref, full = tmp_path / "_run", tmp_path / "_run" / "full"
    full.mkdir(parents=True)
    (ref / "chain_spectra.claims.json").write_text(json.dumps(
        {"schema": 3, "chapter": "chain_spectra", "profile": "smoke",
         "rows": [_row("P1-a", profile="smoke"), _row("S-b", source="sanity check", profile="smoke")]}))
    (ref / "training.claims.json").write_text(json.dumps([{"claim": "old", "verdict": "reproduced"}]))
    (full / "chain_spectra.claims.json").write_text(json.dumps(
        {"schema": 3, "chapter": "chain_spectra", "profile": "full", "rows": [_row("P1-a", profile="full")]}))
    ledgers, notes = site.load_ledgers({"reference": ref, "full": full})
    assert sorted(ledgers) == ["full", "smoke"]
    assert [r.id for r in ledgers["smoke"]] == ["P1-a", "S-b"]
    assert [r.id for r in ledgers["full"]] == ["P1-a"]
    assert len(notes) == 1 and "training" in notes[0] and "old format" in notes[0]


def test_load_ledgers_says_when_a_profile_was_never_run(tmp_path):
    ledgers, notes = site.load_ledgers({"reference": tmp_path / "nothing", "full": tmp_path / "nothing" / "full"})
    assert ledgers == {}
    assert len(notes) == 2 and "No `reference` run" in notes[0] and "No `full` run" in notes[1]


def test_profile_run_dirs_follow_rgnb_run_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("RGNB_RUN_DIR", raising=False)
    assert site.profile_run_dirs() == {"reference": site.RUN_DIR, "full": site.RUN_DIR / "full"}
    monkeypatch.setenv("RGNB_RUN_DIR", str(tmp_path / "copy"))
    # the executing run stands for its profile; the other profile's run is the stored one (never a temp path)
    assert site.profile_run_dirs() == {"reference": tmp_path / "copy", "full": site.RUN_DIR / "full"}
    monkeypatch.setenv("RGNB_RUN_DIR", str(tmp_path / "copy" / "full"))
    assert site.profile_run_dirs()["full"] == tmp_path / "copy" / "full"
