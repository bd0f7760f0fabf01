"""Tests of rgnb.mlp.tuning: the tuning history is data (results/tuning.json), read, checked and tied to the code."""

import copy
import json

import pytest

from rgnb.mlp import sweeps, tuning


@pytest.fixture(scope="module")
def raw():
    return json.loads(tuning.TUNING_FILE.read_text())


def test_the_recorded_decisions_are_the_budgets_the_code_trains():
    history = tuning.load_tuning()
    assert history.main_steps == sweeps.REFERENCE_STEPS
    assert history.no_layernorm_steps == sweeps.NO_LAYERNORM_STEPS
    reference = sweeps.sweeps_for("reference")
    for family, config in reference.items():
        expected = history.main_steps if config.architecture == sweeps.MIXER else history.no_layernorm_steps
        assert config.steps == expected, family
    # the first run of the robustness reading trained fewer steps than the budget it led to
    assert history.no_layernorm_first_run.steps < history.no_layernorm_steps
    # xi = 0.5 was tuned and dropped from the reference grid
    assert all(0.5 in {c.xi for c in run.cells} for run in history.main_runs)
    assert 0.5 not in sweeps.REFERENCE_XIS


def test_the_sweeps_tables_are_read_from_the_file():
    history = tuning.load_tuning()
    assert sweeps.TUNING == history.main_table()
    assert sweeps.NO_LAYERNORM_TUNING == history.no_layernorm_table()
    assert sweeps.NO_LAYERNORM_FIRST_RUN == history.first_run_record()
    # the shapes the training and robustness chapters format
    for budget, chain, cells in sweeps.TUNING:
        assert budget.endswith("steps") and chain in ("potts", "ring")
        assert list(cells) == [0.5, 1.0, 3.0, 7.0]
        assert all(isinstance(e, float) and 0.0 <= s <= 1.0 and "/" in p for e, s, p in cells.values())
    assert all(len(v) == 2 for _, v in sweeps.NO_LAYERNORM_TUNING)


def test_the_history_keeps_the_numbers_that_were_in_the_code():
    """The values moved from comments and literals of rgnb.mlp.sweeps, unchanged."""
    table = {(b, k): cells for b, k, cells in sweeps.TUNING}
    assert table[("3000 steps", "potts")][7.0] == (0.0113, 0.991, "3/4")
    assert table[("4000 steps", "ring")][0.5] == (0.0028, 0.48, "2/4")
    assert table[("6000 steps", "potts")][7.0] == (0.0074, 0.994, "4/4")
    assert dict(sweeps.NO_LAYERNORM_TUNING)["7000 steps, lr 1e-2"] == (0.0081, 0.0065)
    assert sweeps.NO_LAYERNORM_FIRST_RUN == {"steps": 8000, "passed": "19/20 (potts), 10/10 (shuffled)",
                                             "failed": ((7.0, 3, 0.0101),)}


def test_load_tuning_reads_another_path(tmp_path, raw):
    changed = copy.deepcopy(raw)
    changed["no_layernorm"]["first_run"]["failed"] = []
    path = tmp_path / "tuning.json"
    path.write_text(json.dumps(changed))
    assert tuning.load_tuning(path).first_run_record()["failed"] == ()


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(schema=2), "schema 1"),
    (lambda d: d.pop("main"), "'main' must be"),
    (lambda d: d["main"].update(chosen_steps="5000"), "'chosen_steps' must be"),
    (lambda d: d["main"]["runs"][0]["cells"][0].update(worst_excess_nats=True), "'worst_excess_nats' must be"),
    (lambda d: d["no_layernorm"]["runs"][0].update(excess_nats_by_seed=[]), "non-empty list of numbers"),
    (lambda d: d["no_layernorm"]["first_run"]["failed"][0].update(seed=3.0), "'seed' must be"),
])
def test_a_malformed_history_is_refused(raw, edit, message):
    bad = copy.deepcopy(raw)
    edit(bad)
    with pytest.raises(ValueError, match=message):
        tuning.parse_tuning(bad)
    with pytest.raises(ValueError, match="schema"):
        tuning.parse_tuning([raw])
