"""Tests of rgnb.findings (protocol v2): per-seed statistics, nulls, specs, and the pipeline on tiny sweeps."""

import dataclasses
import math

import numpy as np
import pytest

from rgnb import chains, claims, findings, train

BASE = train.SweepConfig(vocab_size=4, seq_len=8, xis=(1.0, 7.0), depths=(4,), seeds=(0, 1, 2), width=8,
                         channel_mult=2, steps=30, warmup=3, batch_size=16, data_chunk=10, log_every=5, n_probe=48,
                         n_eval=64)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("cache")
    results = {"potts": train.run_sweep(BASE, "cpu", cache_dir=d, progress=False),
               "ring": train.run_sweep(dataclasses.replace(BASE, kind="ring"), "cpu", cache_dir=d, progress=False),
               "shuffled": train.run_sweep(dataclasses.replace(BASE, kind="shuffled", xis=(1.0,)), "cpu",
                                           cache_dir=d, progress=False)}
    return results, findings.measure_profile(results, cache_dir=d), d


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
    assert findings.relevant_modes("potts", 8, 1.0, s) == 0          # e^{-2} < e^{-1}
    assert findings.relevant_modes("potts", 8, 3.0, s) == 7          # e^{-2/3} > e^{-1}
    counts = [findings.relevant_modes("ring", 8, xi, s) for xi in (1.0, 3.0, 7.0, 20.0)]
    assert counts == sorted(counts) and counts[0] < counts[-1] <= 7
    with pytest.raises(ValueError, match="scale"):
        findings.relevant_modes("potts", 8, 1.0, 0.0)


def test_task_scale_is_the_mean_distance_to_a_visible_token():
    mask = np.array([[False, True, True, True, False], [True, False, False, False, False]])
    assert findings.task_scale(mask) == pytest.approx((1 + 2 + 1 + 1) / 4)


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
    assert np.all((td >= 0) & (td <= 3)) and np.all(td == np.round(td))
    assert np.isnan(meas.get("shuffled", "taskdim", "trained")).all()


def test_measurements_are_cached_by_source(tiny):
    results, meas, d = tiny
    again = findings.measure_profile(results, cache_dir=d)
    for key, vals in meas.values.items():
        for q, v in vals.items():
            np.testing.assert_array_equal(v, again.values[key][q])
    assert findings.measure_key(results) == findings.measure_key(results)
    assert len(findings.measurement_source_hash()) == 16


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
def _with_taskdim(meas, chain_gain: float, null_gain: float):
    """A copy of ``meas`` whose task dimensions are synthetic: init = 5 + x (input-driven, grows with the
    relevant modes x), trained = init + gain * x, for the chain networks and the shuffled ones."""
    values = {k: dict(v) for k, v in meas.values.items()}
    for fam in ("potts", "ring"):
        r = meas.results[fam]
        x = np.array([findings.relevant_modes(r.config.kind, r.config.vocab_size, m["xi"], meas.scale)
                      for m in r.members], dtype=float)
        values[(fam, "init", "own")]["taskdim"] = 5 + x
        values[(fam, "trained", "own")]["taskdim"] = 5 + x + chain_gain * x
        for xi in r.config.xis:
            xk = findings.relevant_modes(r.config.kind, r.config.vocab_size, xi, meas.scale)
            n = len(meas.results["shuffled"].members)
            values[("shuffled", "init", f"{fam}:{xi:g}")]["taskdim"] = np.full(n, 5.0 + xk)
            values[("shuffled", "trained", f"{fam}:{xi:g}")]["taskdim"] = np.full(n, 5.0 + xk + null_gain * xk)
    return findings.Measurements(meas.results, values, meas.scale)


def test_relevance_gain_subtracts_the_initialised_network(tiny):
    _, meas, _ = tiny
    assert np.isfinite(meas.get("shuffled", "taskdim", "trained", probe="ring:7")).all()  # the null is measured
    fake = _with_taskdim(meas, chain_gain=2.0, null_gain=-0.5)
    gain, null = findings.relevance_gain(fake), findings.relevance_gain(fake, "shuffled")
    assert np.ptp(gain["x"]) > 0 and gain["n"] == 12 and null["n"] == 4 * 3
    assert gain["slope"].estimate == pytest.approx(2.0) and null["slope"].estimate == pytest.approx(-0.5)
    assert findings.spectral_relevance(fake)["slope"].estimate == pytest.approx(3.0)  # trained alone: 1 + 2
    with pytest.raises(ValueError, match="network"):
        findings.relevance_gain(fake, "init")


def test_spectral_relevance_row_is_vacuous_when_the_null_gains_too(tiny, monkeypatch):
    results, meas, _ = tiny
    for r in results.values():
        monkeypatch.setattr(type(r), "gate", lambda self: np.ones(len(self), dtype=bool))

    def row(chain_gain, null_gain):
        fake = _with_taskdim(meas, chain_gain, null_gain)
        fake.values[("potts", "trained", "own")]["taskdim"] = fake.values[("potts", "trained", "own")]["taskdim"] + \
            np.linspace(-0.3, 0.3, len(results["potts"].members))  # noise: a finite interval
        return {r.id: r for r in findings.selectivity_rows(fake, "smoke")}["ours-spectral-relevance"]

    assert set(row(2.0, -0.5).null) == {"shuffled chain"}
    assert row(2.0, -0.5).verdict == claims.REPRODUCED
    assert row(2.0, 2.0).verdict == claims.VACUOUS
    assert row(-1.0, -0.5).verdict == claims.NOT_REPRODUCED


# ----------------------------------------------------------------------------------------------- #
# The robustness reading
# ----------------------------------------------------------------------------------------------- #
def test_reading_selects_an_architecture_and_drops_its_suffix():
    def fake(arch):
        return type("R", (), {"config": dataclasses.replace(BASE, architecture=arch)})()

    results = {"potts": fake("mixer"), "shuffled": fake("mixer"), "potts-nolayernorm": fake("mixer-no-layernorm"),
               "shuffled-nolayernorm": fake("mixer-no-layernorm")}
    assert list(findings.reading(results)) == ["potts", "shuffled"]
    robust = findings.reading(results, findings.ROBUSTNESS_READING)
    assert list(robust) == ["potts", "shuffled"] and robust["potts"] is results["potts-nolayernorm"]
    with pytest.raises(ValueError, match="does not end in"):
        findings.reading({"potts": fake("mixer-no-layernorm")}, findings.ROBUSTNESS_READING)
    with pytest.raises(ValueError, match="architecture"):
        findings.reading(results, "transformer")


def test_robustness_specs_are_the_same_tests_as_our_claims():
    main, robust = findings.specs(8), findings.specs(8, findings.ROBUSTNESS_READING)
    assert set(robust) == set(main) - {"ours-spectral-relevance"}
    for k, spec in robust.items():
        assert spec.id == f"robust-{k}" and spec.source == "ours" and spec.chapter == "robustness"
        assert (spec.threshold, spec.passes, spec.null_control, spec.statistic) == \
            (main[k].threshold, main[k].passes, main[k].null_control, main[k].statistic)
        assert spec.figure.startswith("fig-robust-")


def test_reading_agreement_says_which_reading_a_claim_holds_for():
    def row(id_, verdict):
        return type("Row", (), {"id": id_, "chapter": "rank_collapse", "verdict": verdict})()

    main = [row("a", claims.REPRODUCED), row("b", claims.REPRODUCED), row("c", claims.NOT_REPRODUCED),
            row("d", claims.VACUOUS), row("only-main", claims.REPRODUCED)]
    robust = [row("robust-a", claims.REPRODUCED), row("robust-b", claims.INCONCLUSIVE),
              row("robust-c", claims.REPRODUCED), row("robust-d", claims.NOT_REPRODUCED)]
    got = {a["claim"]: a["holds for"] for a in findings.reading_agreement(main, robust)}
    assert got == {"a": "both readings", "b": "MLP-Mixer with pre-LayerNorm only",
                   "c": "the mixer without LayerNorm only", "d": "neither reading"}


def test_robustness_rows_on_a_tiny_no_layer_norm_sweep(tmp_path):
    cfg = dataclasses.replace(BASE, architecture="mixer-no-layernorm", steps=10, log_every=5)
    results = {"potts-nolayernorm": train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False),
               "shuffled-nolayernorm": train.run_sweep(dataclasses.replace(cfg, kind="shuffled", xis=(1.0,)), "cpu",
                                                       cache_dir=tmp_path, progress=False)}
    meas = findings.measure_profile(findings.reading(results, findings.ROBUSTNESS_READING), cache=False)
    rows = findings.robustness_rows(meas, "smoke")
    assert {r.id for r in rows} == {"robust-P1-i-monotone", "robust-P1-i-monotone-raw", "robust-P1-i-monotone-pc90",
                                    "robust-P1-ii-present", "robust-P1-ii-absent", "robust-P1-ii-selective",
                                    "robust-P1-iii-concentrated", "robust-P1-iii-concentrated-with-embedding",
                                    "robust-P1-iii-plateau"}
    assert all(r.source == "ours" and r.chapter == "robustness" for r in rows)
    assert all(r.verdict == claims.PREMISE_NOT_MET for r in rows)  # 10 steps: nowhere near the floor
