"""Tests of rgnb.mlp.findings (protocol v2): per-seed statistics, nulls, specs, and the pipeline on tiny sweeps."""

import dataclasses
import math

import numpy as np
import pytest

from rgnb import chains, claims
from rgnb.mlp import findings, measure, sweeps, train

BASE = sweeps.SweepConfig(vocab_size=8, seq_len=8, xis=(1.0, 7.0), depths=(4,), seeds=(0, 1, 2), width=8,
                         channel_mult=2, steps=30, warmup=3, batch_size=16, data_chunk=10, log_every=5, n_probe=48,
                         n_eval=64)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("cache")
    results = {"potts": train.run_sweep(BASE, "cpu", cache_dir=d, progress=False),
               "ring": train.run_sweep(dataclasses.replace(BASE, kind="ring"), "cpu", cache_dir=d, progress=False),
               "shuffled": train.run_sweep(dataclasses.replace(BASE, kind="shuffled", xis=(1.0,)), "cpu",
                                           cache_dir=d, progress=False)}
    return results, measure.measure_profile(results, cache_dir=d), d


def test_rho_collapse_top2_plateau_per_seed():
    prof = np.array([[0.0, 10.0, 8.0, 6.0, 5.0], [0.0, 5.0, 6.0, 7.0, 8.0], [0.0, 3.0, 3.0, 3.0, 3.0]])
    np.testing.assert_allclose(findings.rho_from_1(prof), [-1.0, 1.0, 0.0])  # h^0 never counts
    np.testing.assert_allclose(findings.collapse_from_1(prof), [0.5, 1.6, 1.0])
    drift = np.array([[0.9, 0.5, 0.1, 0.1, 0.1, 0.2]])  # 0->1 largest: excluded unless with_embedding
    assert findings.top2_share(drift)[0] == pytest.approx(0.7 / 1.0)
    assert findings.top2_share(drift, with_embedding=True)[0] == pytest.approx(1.4 / 1.9)
    init = np.array([[0.5, 0.2, 0.2, 0.2, 0.2, 0.2]])
    assert findings.plateau_ratio(drift, init)[0] == pytest.approx(0.1 / 0.2)
    with pytest.raises(ValueError, match="L >= 4"):
        findings.plateau_ratio(drift[:, :3], init[:, :3])
    assert findings.top2_threshold(7) == pytest.approx(2 / 7 + 0.15)


def test_relevant_modes_potts_switch_and_ring_count():
    s = 2.0
    assert measure.relevant_modes("potts", 8, 1.0, s) == 0          # e^{-2} < e^{-1}
    assert measure.relevant_modes("potts", 8, 3.0, s) == 7          # e^{-2/3} > e^{-1}
    counts = [measure.relevant_modes("ring", 8, xi, s) for xi in (1.0, 3.0, 7.0, 20.0)]
    assert counts == sorted(counts) and counts[0] < counts[-1] <= 7
    with pytest.raises(ValueError, match="scale"):
        measure.relevant_modes("potts", 8, 1.0, 0.0)


def test_task_scale_is_the_mean_distance_to_a_visible_token():
    mask = np.array([[False, True, True, True, False], [True, False, False, False, False]])
    assert measure.task_scale(mask) == pytest.approx((1 + 2 + 1 + 1) / 4)


def test_specs_are_declared_with_nulls_and_the_pre_stated_thresholds():
    sp = findings.specs(8)
    assert sp["P1-i-monotone"].threshold == -0.8 and sp["P1-i-monotone"].passes == "below"
    assert sp["P1-ii-selective"].threshold == pytest.approx(findings.COLLAPSE_MARGIN)
    assert sp["P1-ii-present"].passes == "below" and sp["P1-ii-absent"].passes == "above"
    assert sp["P1-iii-concentrated"].threshold == pytest.approx(2 / 7 + findings.TOP2_MARGIN)
    assert sp["P1-iii-concentrated-with-embedding"].threshold == pytest.approx(2 / 8 + findings.TOP2_MARGIN)
    assert sp["P1-iii-plateau"].threshold == findings.PLATEAU_RATIO and sp["P1-iii-plateau"].passes == "below"
    assert all(s.null_control and s.ci_method == "student-t" and s.figure for s in sp.values())
    assert {s.chapter for s in sp.values()} == {"rank_collapse", "selectivity", "kernel_drift"}
    assert sum(s.source == "P1" for s in sp.values()) >= 10


def test_measurements_shapes_and_nulls(tiny):
    results, meas, _ = tiny
    L = 4
    assert meas.get("potts", "erank_ln", "trained", 1.0).shape == (3, L + 1)
    assert meas.get("potts", "drift", "init", 7.0).shape == (3, L)
    assert meas.get("shuffled", "erank_ln", "trained", probe="potts:7").shape == (3, L + 1)
    # init networks depend on the seed only: the same weights measured on the same probe set agree
    np.testing.assert_allclose(meas.get("potts", "erank_ln", "init", 1.0),
                               meas.get("shuffled", "erank_ln", "init", probe="potts:1"), rtol=1e-9)
    # masked rows of h^0 are identical (mask embedding + position): dimension 0, never a baseline
    assert np.all(meas.get("potts", "erank_raw", "trained", 1.0)[:, 0] == 0)
    td = meas.get("potts", "taskdim", "trained", 7.0)
    assert np.all((td >= 0) & (td <= 7)) and np.all(td == np.round(td))
    assert np.isnan(meas.get("shuffled", "taskdim", "trained")).all()


def test_measurements_are_cached_by_source(tiny):
    results, meas, d = tiny
    again = measure.measure_profile(results, cache_dir=d)
    for key, vals in meas.values.items():
        for q, v in vals.items():
            np.testing.assert_array_equal(v, again.values[key][q])
    assert measure.measure_key(results) == measure.measure_key(results)
    assert len(measure.measurement_source_hash()) == 16


def test_claim_rows_say_premise_not_met_when_the_gate_fails(tiny):
    results, meas, _ = tiny
    rows = (findings.rank_collapse_rows(meas, "smoke") + findings.selectivity_rows(meas, "smoke")
            + findings.kernel_drift_rows(meas, "smoke"))
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))
    assert {"P1-i-monotone", "P1-ii-present", "P1-ii-absent", "P1-ii-selective", "P1-ii-selective-ring",
            "P1-iii-concentrated", "P1-iii-concentrated-with-embedding", "P1-iii-plateau"} <= set(ids)
    assert all(r.verdict == claims.PREMISE_NOT_MET for r in rows)      # 30 steps: nowhere near the floor
    assert all(not r.premise_met and "pass the convergence gate" in r.premise_detail for r in rows)
    by_id = {r.id: r for r in rows}
    assert set(by_id["P1-i-monotone"].null) == {"initialisation", "shuffled chain"}
    assert set(by_id["P1-ii-absent"].null) == {"shuffled chain"}
    rho = findings.rho_from_1(meas.get("potts", "erank_ln", "trained", 1.0))
    assert by_id["P1-i-monotone"].measured["estimate"] == pytest.approx(rho.mean(), abs=1e-3)


def test_verdict_when_the_premise_holds(tiny, monkeypatch):
    results, meas, _ = tiny
    for r in results.values():
        monkeypatch.setattr(type(r), "gate", lambda self: np.ones(len(self), dtype=bool))
    rows = {r.id: r for r in findings.rank_collapse_rows(meas, "smoke")}
    assert all(r.premise_met for r in rows.values())
    assert rows["P1-i-monotone"].verdict in (claims.REPRODUCED, claims.NOT_REPRODUCED, claims.INCONCLUSIVE,
                                             claims.VACUOUS)


# ----------------------------------------------------------------------------------------------- #
# Spectral relevance: what training adds, against the shuffled-chain null on the same design
# ----------------------------------------------------------------------------------------------- #
def _with_taskdim(meas, chain_gain: float, null_gain: float, xi_gain: float = 0.0):
    """A copy of ``meas`` whose task dimensions are synthetic: init = 5 + x + seed (input-driven, grows with
    the relevant modes x), trained = init + chain_gain * x + xi_gain * log xi for the chain networks, and
    init + null_gain * x for the shuffled ones probed on the same chain (x: that chain's relevant modes)."""
    values = {k: dict(v) for k, v in meas.values.items()}
    for fam in ("potts", "ring"):
        r = meas.results[fam]
        x = np.array([measure.relevant_modes(r.config.kind, r.config.vocab_size, m["xi"], meas.scale)
                      for m in r.members], dtype=float)
        seed = np.array([m["seed"] for m in r.members], dtype=float)
        log_xi = np.log([m["xi"] for m in r.members])
        values[(fam, "init", "own")]["taskdim"] = 5 + x + seed
        values[(fam, "trained", "own")]["taskdim"] = 5 + x + seed + chain_gain * x + xi_gain * log_xi
        sh = np.array([m["seed"] for m in meas.results["shuffled"].members], dtype=float)
        for xi in r.config.xis:
            xk = measure.relevant_modes(r.config.kind, r.config.vocab_size, xi, meas.scale)
            values[("shuffled", "trained", f"{fam}:{xi:g}")]["taskdim"] = 5.0 + xk + sh + null_gain * xk
    return measure.Measurements(meas.results, values, meas.scale)


def test_relevance_gain_subtracts_the_initialised_network_per_seed(tiny):
    _, meas, _ = tiny
    assert np.isfinite(meas.get("shuffled", "taskdim", "trained", probe="ring:7")).all()  # the null is measured
    assert ("shuffled", "init", "ring:7") not in meas.values  # initialised, it is the ring network of its seed
    cells = findings.relevance_cells(meas)
    assert [c[:2] for c in cells] == [("potts", 1.0), ("potts", 7.0), ("ring", 1.0), ("ring", 7.0)]
    fake = _with_taskdim(meas, chain_gain=2.0, null_gain=-0.5, xi_gain=1.5)
    gain, null = findings.relevance_gain(fake), findings.relevance_gain(fake, "shuffled")
    x = np.array([c[2] for c in cells], dtype=float)
    log_xi = np.log([c[1] for c in cells])
    np.testing.assert_allclose(gain["gain"], np.tile(2.0 * x + 1.5 * log_xi, (3, 1)))  # per seed, per chain
    np.testing.assert_allclose(null["gain"], np.tile(-0.5 * x, (3, 1)))
    assert np.linalg.matrix_rank(np.stack([np.ones_like(x), x, log_xi], 1)) == 3  # V = 8: potts 0, 7; ring 0, 4
    np.testing.assert_allclose(gain["coef"], 2.0)  # the x effect at fixed xi, not 2 + the xi trend
    np.testing.assert_allclose(null["coef"], -0.5)
    assert gain["slope"].n == 3 and gain["slope"].method == "student-t"
    assert findings.relevance_gain_difference(gain, null).estimate == pytest.approx(2.5)
    with pytest.raises(ValueError, match="trained_on"):
        findings.relevance_gain(fake, "init")


def test_relevance_gain_separates_modes_from_correlation_length():
    """On a design where potts and ring differ in x at equal xi, a pure log-xi effect has x coefficient 0."""
    cells = [("potts", 1.0, 0), ("potts", 3.0, 7), ("potts", 7.0, 7), ("ring", 1.0, 0), ("ring", 3.0, 2),
             ("ring", 7.0, 4)]
    x = np.array([c[2] for c in cells], float)
    design = np.stack([np.ones(6), x, np.log([c[1] for c in cells])], 1)
    only_xi = 3.0 * design[:, 2]
    assert abs(only_xi @ np.linalg.pinv(design)[1]) < 1e-12
    assert (only_xi + 0.7 * x) @ np.linalg.pinv(design)[1] == pytest.approx(0.7)


def test_spectral_relevance_rows_keep_the_vacuous_test_and_add_the_post_hoc_gain(tiny, monkeypatch):
    results, meas, _ = tiny
    for r in results.values():
        monkeypatch.setattr(type(r), "gate", lambda self: np.ones(len(self), dtype=bool))
    x = np.array([c[2] for c in findings.relevance_cells(meas)], dtype=float)
    log_xi = np.log([c[1] for c in findings.relevance_cells(meas)])
    assert np.linalg.matrix_rank(np.stack([np.ones_like(x), x, log_xi], 1)) == 3

    def rows(chain_gain, null_gain):
        fake = _with_taskdim(meas, chain_gain, null_gain)
        noise = np.array([m["seed"] for m in results["potts"].members], dtype=float) * 0.1
        fake.values[("potts", "trained", "own")]["taskdim"] = fake.values[("potts", "trained", "own")]["taskdim"] + noise
        return {r.id: r for r in findings.selectivity_rows(fake, "smoke")}

    got = rows(2.0, -0.5)
    assert got["ours-spectral-relevance"].null.keys() == {"initialisation"}
    assert got["ours-spectral-relevance"].verdict == claims.VACUOUS  # init slope 1 > 0 passes too
    assert got["ours-spectral-relevance-gain"].post_hoc and got["ours-spectral-relevance-gain"].n_unit == "seeds"
    assert got["ours-spectral-relevance-gain"].null.keys() == {"shuffled chain"}
    assert got["ours-spectral-relevance-gain"].verdict == claims.REPRODUCED
    assert rows(2.0, 2.0)["ours-spectral-relevance-gain"].verdict == claims.VACUOUS
    assert rows(-1.0, -0.5)["ours-spectral-relevance-gain"].verdict == claims.NOT_REPRODUCED


# ----------------------------------------------------------------------------------------------- #
# The robustness reading
# ----------------------------------------------------------------------------------------------- #
def test_reading_selects_an_architecture_and_drops_its_suffix():
    def fake(arch):
        return type("R", (), {"config": dataclasses.replace(BASE, architecture=arch)})()

    results = {"potts": fake("mixer"), "shuffled": fake("mixer"), "potts-nolayernorm": fake("mixer-no-layernorm"),
               "shuffled-nolayernorm": fake("mixer-no-layernorm")}
    assert list(sweeps.reading(results)) == ["potts", "shuffled"]
    robust = sweeps.reading(results, sweeps.ROBUSTNESS_READING)
    assert list(robust) == ["potts", "shuffled"] and robust["potts"] is results["potts-nolayernorm"]
    with pytest.raises(ValueError, match="does not end in"):
        sweeps.reading({"potts": fake("mixer-no-layernorm")}, sweeps.ROBUSTNESS_READING)
    with pytest.raises(ValueError, match="architecture"):
        sweeps.reading(results, "transformer")


def test_robustness_specs_are_the_same_tests_as_our_claims():
    main, robust = findings.specs(8), findings.specs(8, sweeps.ROBUSTNESS_READING)
    assert set(robust) == set(main) - {"ours-spectral-relevance", "ours-spectral-relevance-gain"}
    for k, spec in robust.items():
        assert spec.id == f"robust-{k}" and spec.source == "ours" and spec.chapter == "robustness"
        assert (spec.threshold, spec.passes, spec.null_control, spec.statistic) == \
            (main[k].threshold, main[k].passes, main[k].null_control, main[k].statistic)
        assert spec.figure.startswith("fig-robust-")


def test_reading_agreement_says_which_reading_a_claim_holds_for():
    def row(id_, verdict):
        return type("Row", (), {"id": id_, "chapter": "rank_collapse", "verdict": verdict})()

    main = [row("a", claims.REPRODUCED), row("b", claims.REPRODUCED), row("c", claims.NOT_REPRODUCED),
            row("d", claims.NOT_REPRODUCED), row("e", claims.VACUOUS), row("only-main", claims.REPRODUCED)]
    robust = [row("robust-a", claims.REPRODUCED), row("robust-b", claims.NOT_REPRODUCED),
              row("robust-c", claims.REPRODUCED), row("robust-d", claims.NOT_REPRODUCED),
              row("robust-e", claims.INCONCLUSIVE)]
    got = {a["claim"]: a["holds for"] for a in findings.reading_agreement(main, robust)}
    assert findings.reading_agreement(main, robust)[0]["main measured"] == "n/a"  # rows without a statistic
    assert got == {"a": "both readings", "b": "MLP-Mixer with pre-LayerNorm only",
                   "c": "the mixer without LayerNorm only", "d": "neither reading",
                   "e": "undecided: vacuous test for MLP-Mixer with pre-LayerNorm; inconclusive for the mixer "
                        "without LayerNorm"}
    robust[1] = row("robust-b", claims.PREMISE_NOT_MET)  # a reproduced claim is not "one reading only" then
    assert findings.reading_agreement(main, robust)[1]["holds for"].startswith("undecided: premise not met")


def test_robustness_rows_on_a_tiny_no_layer_norm_sweep(tmp_path, monkeypatch):
    cfg = dataclasses.replace(BASE, architecture="mixer-no-layernorm", steps=10, log_every=5)
    results = {"potts-nolayernorm": train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False),
               "shuffled-nolayernorm": train.run_sweep(dataclasses.replace(cfg, kind="shuffled", xis=(1.0,)), "cpu",
                                                       cache_dir=tmp_path, progress=False)}
    meas = measure.measure_profile(sweeps.reading(results, sweeps.ROBUSTNESS_READING), cache=False)
    rows = findings.robustness_rows(meas, "smoke")
    assert {r.id for r in rows} == {"robust-P1-i-monotone", "robust-P1-i-monotone-raw", "robust-P1-i-monotone-pc90",
                                    "robust-P1-ii-present", "robust-P1-ii-absent", "robust-P1-ii-selective",
                                    "robust-P1-iii-concentrated", "robust-P1-iii-concentrated-with-embedding",
                                    "robust-P1-iii-plateau"}
    assert all(r.source == "ours" and r.chapter == "robustness" for r in rows)
    assert all(r.verdict == claims.PREMISE_NOT_MET for r in rows)  # 10 steps: nowhere near the floor
    # with the premise granted, the statistic is the main reading's function of the no-LayerNorm networks
    for r in results.values():
        monkeypatch.setattr(type(r), "gate", lambda self: np.ones(len(self), dtype=bool))
    by_id = {r.id: r for r in findings.robustness_rows(meas, "smoke")}
    assert by_id["robust-P1-i-monotone"].premise_met
    rho = findings.rho_from_1(meas.get("potts", "erank_ln", "trained", 1.0))
    assert by_id["robust-P1-i-monotone"].measured["estimate"] == pytest.approx(rho.mean(), abs=1e-3)
    gap = findings.collapse_by_seed(meas, "potts", 7.0) - findings.collapse_by_seed(meas, "potts", 1.0)
    assert by_id["robust-P1-ii-selective"].measured["estimate"] == pytest.approx(gap.mean(), rel=1e-2, abs=1e-3)
    assert set(by_id["robust-P1-i-monotone"].null) == {"initialisation", "shuffled chain"}
