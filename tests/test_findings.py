"""Tests of rgnb.mlp.findings and rgnb.mlp.registry (verdicts v3): per-seed statistics, paired contrasts, the
registry, and the pipeline on tiny sweeps."""

import dataclasses
import math

import numpy as np
import pytest

from rgnb import claims
from rgnb.mlp import findings, measure, registry, sweeps, train

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
    np.testing.assert_allclose(findings.plateau_level(drift), [0.1])


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


def test_registry_declares_one_row_per_finding_with_contrasts_and_margins():
    sp = registry.BY_ID
    assert [s.id for s in registry.FINDINGS] == ["P1-i-monotone", "P1-ii-present", "P1-ii-absent",
                                                  "P1-iii-concentrated", "P1-iii-plateau"]
    assert sp["P1-i-monotone"].margin == 0.3 and sp["P1-i-monotone"].direction == "below"
    assert sp["P1-ii-absent"].kind == "absence" and sp["P1-ii-absent"].positive_control
    assert sp["P1-iii-plateau"].scale == "log-ratio" and sp["P1-iii-plateau"].margin == pytest.approx(math.log(2))
    for s in registry.FINDINGS:
        assert s.contrasts == ("initialisation", "shuffled chain") and s.interval == "sign-flip" and s.margin_reason
    assert "P1-iii-concentrated-with-embedding" not in sp  # removed in v3
    # protocol v3 (issue 28) re-declares P1-ii-selective as a difference in differences against the shuffled chain
    assert sp["P1-ii-selective"] in registry.PROTOCOL_V3 and sp["P1-ii-selective"].contrasts == ("shuffled chain",)
    assert registry.RELEVANCE_GAIN.replaces == "ours-spectral-relevance"


def test_measurements_shapes_and_nulls(tiny):
    results, meas, _ = tiny
    L = 4
    assert meas.get("potts", "erank_ln", "trained", 1.0).shape == (3, L + 1)
    assert meas.get("potts", "drift", "init", 7.0).shape == (3, L)
    assert meas.get("shuffled", "erank_ln", "trained", probe=measure.on_chain("potts", 7)).shape == (3, L + 1)
    # init networks depend on the seed only: the same weights measured on the same probe set agree
    np.testing.assert_allclose(meas.get("potts", "erank_ln", "init", 1.0),
                               meas.get("shuffled", "erank_ln", "init", probe=measure.on_chain("potts", 1)), rtol=1e-9)
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
    assert {"P1-i-monotone", "P1-ii-present", "P1-ii-absent", "P1-iii-concentrated", "P1-iii-plateau"} <= set(ids)
    assert len(ids) == len(set(ids))
    by_id = {r.id: r for r in rows}
    assert all(by_id[i].verdict == claims.PREMISE_NOT_MET for i in ("P1-i-monotone", "P1-ii-present"))  # 30 steps
    assert all(not r.premise_met and "pass the convergence gate" in r.premise_detail for r in rows)
    assert set(by_id["P1-i-monotone"].effects) == {"initialisation", "shuffled chain"}
    assert set(by_id["P1-ii-absent"].positive_control) == {"initialisation, xi = 1"}
    assert [s["configuration"].split(",")[0] for s in by_id["P1-i-monotone"].subrows] == [
        "ring chain", "raw stream h^l", "PCs for 90 % of the variance of LN(h^l)"]  # no isolated sweep here


def test_contrasts_are_paired_by_seed_on_the_same_probes(tiny):
    results, meas, _ = tiny
    contrasts, trained, has_null = findings.contrasts_of(meas, "P1-i-monotone", "potts", 1.0)
    assert has_null
    rho = findings.rho_from_1(meas.get("potts", "erank_ln", "trained", 1.0))
    rho0 = findings.rho_from_1(meas.get("potts", "erank_ln", "init", 1.0))
    rho_sh = findings.rho_from_1(meas.get("shuffled", "erank_ln", "trained", probe=measure.on_chain("potts", 1)))
    np.testing.assert_allclose(trained, rho)
    np.testing.assert_allclose(contrasts["initialisation"].samples, rho - rho0)
    np.testing.assert_allclose(contrasts["shuffled chain"].samples, rho - rho_sh)
    ring, _, ring_null = findings.contrasts_of(meas, "P1-i-monotone", "ring", 1.0)
    rho_ring_sh = findings.rho_from_1(meas.get("shuffled", "erank_ln", "trained", probe=measure.on_chain("ring", 1)))
    assert ring_null  # the ring row's null is measured on the ring's own probes
    np.testing.assert_allclose(ring["shuffled chain"].samples,
                               findings.rho_from_1(meas.get("ring", "erank_ln", "trained", 1.0)) - rho_ring_sh)
    # a continuous statistic (rho of a tiny network is often exactly -1 or +1 on every seed and probe)
    for fam in ("potts", "ring"):
        plateau, _, _ = findings.contrasts_of(meas, "P1-iii-plateau", fam, 1.0)
        assert plateau["initialisation"].scale == "log-ratio"
        own = findings.plateau_level(meas.get(fam, "drift", "trained", 1.0))
        null = findings.plateau_level(meas.get("shuffled", "drift", "trained", probe=measure.on_chain(fam, 1)))
        assert np.ptp(null) > 0  # seeds differ, so pairing matters
        np.testing.assert_allclose(plateau["shuffled chain"].samples, np.log(own) - np.log(null))


def test_verdict_when_the_premise_holds(tiny, monkeypatch):
    results, meas, _ = tiny
    for r in results.values():
        monkeypatch.setattr(type(r), "gate", lambda self: np.ones(len(self), dtype=bool))
    rows = {r.id: r for r in findings.rank_collapse_rows(meas, "smoke")}
    assert all(r.premise_met for r in rows.values())
    # three seeds give 8 sign flips: no 95 % interval is finite, so nothing can be decided
    assert rows["P1-i-monotone"].verdict == claims.INCONCLUSIVE


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
        values[(fam, "init", measure.OWN)]["taskdim"] = 5 + x + seed
        values[(fam, "trained", measure.OWN)]["taskdim"] = 5 + x + seed + chain_gain * x + xi_gain * log_xi
        sh = np.array([m["seed"] for m in meas.results["shuffled"].members], dtype=float)
        for xi in r.config.xis:
            xk = measure.relevant_modes(r.config.kind, r.config.vocab_size, xi, meas.scale)
            values[("shuffled", "trained", measure.on_chain(fam, xi))]["taskdim"] = 5.0 + xk + sh + null_gain * xk
    return measure.Measurements(meas.results, values, meas.scale)


def test_relevance_gain_subtracts_the_initialised_network_per_seed(tiny):
    _, meas, _ = tiny
    assert np.isfinite(meas.get("shuffled", "taskdim", "trained", probe=measure.on_chain("ring", 7))).all()  # the null is measured
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


def test_relevance_gain_row_contrasts_with_the_shuffled_chain(tiny, monkeypatch):
    results, meas, _ = tiny
    for r in results.values():
        monkeypatch.setattr(type(r), "gate", lambda self: np.ones(len(self), dtype=bool))
    fake = _with_taskdim(meas, 2.0, -0.5)
    ev = findings.relevance_gain_evidence(fake)
    assert ev.contrasts["initialisation"].estimate == pytest.approx(2.0)
    assert ev.contrasts["shuffled chain"].estimate == pytest.approx(2.5)
    row = {r.id: r for r in findings.selectivity_rows(fake, "smoke")}["ours-spectral-relevance-gain"]
    assert row.source == "ours" and row.n_unit == "seeds" and set(row.effects) == {"initialisation", "shuffled chain"}
    assert "ours-spectral-relevance" not in {r.id for r in findings.selectivity_rows(fake, "smoke")}
    assert [r.id for r in findings.relevance_rows(fake, "smoke")] == ["ours-spectral-relevance-gain"]


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
    for main, spec in zip(registry.FINDINGS, registry.ROBUSTNESS):
        assert spec.id == f"robust-{main.id}" and spec.source == "ours" and spec.chapter == "robustness"
        assert (spec.kind, spec.direction, spec.margin, spec.contrasts, spec.statistic, spec.scale) == \
            (main.kind, main.direction, main.margin, main.contrasts, main.statistic, main.scale)
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
    assert {r.id for r in rows} == {s.id for s in registry.ROBUSTNESS}
    assert all(r.source == "ours" and r.chapter == "robustness" for r in rows)
    assert all(r.verdict == claims.PREMISE_NOT_MET for r in rows)  # 10 steps: nowhere near the floor
    # with the premise granted, the statistic is the main reading's function of the no-LayerNorm networks
    for r in results.values():
        monkeypatch.setattr(type(r), "gate", lambda self: np.ones(len(self), dtype=bool))
    by_id = {r.id: r for r in findings.robustness_rows(meas, "smoke")}
    assert by_id["robust-P1-i-monotone"].premise_met
    rho = findings.rho_from_1(meas.get("potts", "erank_ln", "trained", 1.0))
    assert by_id["robust-P1-i-monotone"].measured["estimate"] == pytest.approx(rho.mean(), abs=1e-3)
    assert set(by_id["robust-P1-i-monotone"].effects) == {"initialisation", "shuffled chain"}
