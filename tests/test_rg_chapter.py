"""rgnb.rg.chapter: the claims builder on synthetic measurements (verdicts for hierarchies that do
and do not implement decimation, null controls, premises), predictions, and the benchmark CLI."""

import dataclasses
import math

import numpy as np
import pytest

from rgnb import rg
from rgnb.claims import NOT_REPRODUCED, PREMISE_NOT_MET, REPRODUCED, VACUOUS


def _result(law, objective, theta, theta_init, theta_perm, improved=True):
    E, L1 = theta.shape
    li = np.ones((E, L1 - 1))
    lf = li - (0.5 if improved else -0.5)
    return rg.HierarchyResult(law, objective, "shared", theta, theta_init, theta_perm, li, lf, np.zeros((E, 2)), 0.0)


def _noisy(mean, E=10, sd=0.005, seed=0):
    return mean[None, :] + sd * np.random.default_rng(seed).standard_normal((E, mean.size))


def _study(results):
    return rg.Study(dataclasses.replace(rg.SMOKE, n_layers=4), {(r.law, r.objective, r.architecture): r for r in results}, 0.0)


def _checks():
    sz = dataclasses.replace(rg.SMOKE, n_chains=8, chain_length=2 ** 10, rg_steps=2, n_iid=2 ** 12, n_groups=8)
    c = {"ising": rg.check_ising_decimation(0.9, 0.2, sz), "gauss": rg.check_gaussian_decimation(1.0, 0.45, 0.2, sz)}
    for fam, par in {"gamma": (0.5, 1.0), "poisson": (0.5, 1.0), "normal": (0.3, 2.0)}.items():
        c[fam] = rg.check_block_sum(fam, par, sz)
    return c


CHECKS = None


def _rows(results):
    global CHECKS
    CHECKS = CHECKS or _checks()
    return {r.id: r for r in rg.build_claims(CHECKS, _study(results), "smoke")}


def test_decimating_hierarchy_reproduces_Tk_and_far_one_does_not():
    pred = rg.rg_prediction("ising-away", 4)
    far = pred.copy(); far[1:] = pred[1:] + 0.2
    perm = np.full(5, 0.02)
    rows = _rows([_result("ising-away", "denoise", _noisy(pred), _noisy(far, seed=1), _noisy(perm, seed=2)),
                  _result("gauss-away", "denoise", _noisy(rg.rg_prediction("gauss-away", 4) + np.r_[0, 0.2, 0.2, 0.2, 0.2]),
                          _noisy(perm, seed=3), _noisy(perm, seed=4))])
    assert rows["P2-Tk-ising-away-denoise-shared"].verdict == REPRODUCED
    assert rows["P2-Tk-gauss-away-denoise-shared"].verdict == NOT_REPRODUCED
    # T: the last layer of the decimating hierarchy is at tanh(0.5)^16 ~ 0 -- but the permuted null is too
    assert rows["P2-T-ising-away-denoise-shared"].verdict == VACUOUS
    assert set(rows["P2-Tk-ising-away-denoise-shared"].null) == {"untrained", "permuted units"}
    assert rows["P2-Tk-ising-away-denoise-shared"].measured["method"] == "student-t"
    assert rows["P2-Tk-ising-away-denoise-shared"].n == 10


def test_premise_and_row_inventory():
    pred = rg.rg_prediction("ising-near", 4)
    rows = _rows([_result("ising-near", "rsmi", _noisy(pred), _noisy(pred + 0.3), _noisy(np.zeros(5)), improved=False)])
    assert rows["P2-Tk-ising-near-rsmi-shared"].verdict == PREMISE_NOT_MET
    assert {"A-map-ising", "A-map-gauss", "A-map-iid", "A-critical-eigenvalue", "B-rsmi-enumeration",
            "P2-Tk-ising-near-rsmi-shared", "P2-T-ising-near-rsmi-shared", "ours-local-ising-near-rsmi-shared"} == set(rows)
    assert all(rows[k].verdict == REPRODUCED for k in ("A-map-ising", "A-map-gauss", "A-map-iid",
                                                       "A-critical-eigenvalue", "B-rsmi-enumeration"))
    assert all(r.source == "P2" for k, r in rows.items() if k.startswith("P2-"))


def test_local_optimum_row_uses_exact_rsmi_coupling():
    K = rg.LAW_BY_NAME["ising-away"].param
    loc = rg.local_optimum_prediction("ising-away", "rsmi", 4)
    assert loc[1] == pytest.approx(math.tanh(K) ** 2, abs=1e-12) and np.all(np.isnan(loc[2:]))
    th = _noisy(np.r_[math.tanh(K), loc[1], 0.1, 0.05, 0.02])
    rows = _rows([_result("ising-away", "rsmi", th, _noisy(np.r_[0.46, 0.4, 0.2, 0.1, 0.05]), _noisy(np.zeros(5)))])
    assert rows["ours-local-ising-away-rsmi-shared"].verdict == REPRODUCED
    assert rows["ours-local-ising-away-rsmi-shared"].source == "ours"


def test_statistics_on_known_arrays():
    pred = rg.rg_prediction("gauss-near", 3)
    th = np.tile(pred, (2, 1)); th[0, 2] += 0.1; th[1, 3] -= 0.03
    np.testing.assert_allclose(rg.tk_statistic(th, "gauss-near"), [0.1, 0.03], atol=1e-12)
    np.testing.assert_allclose(rg.t_statistic(th, "gauss-near"), np.abs(th[:, -1]), atol=1e-12)
    np.testing.assert_allclose(rg.rg_prediction("gamma-iid", 2), 2 / math.sqrt(0.5) * np.array([1, 2 ** -0.5, 0.5]))
    np.testing.assert_allclose(rg.rg_prediction("ising-near", 2), math.tanh(2.0) ** np.array([1, 2, 4]))


def test_configurations_never_pool_and_skip_rsmi_on_iid():
    cfg = rg.configurations()
    assert len(cfg) == len(set(cfg)) == 18
    assert ("gamma-iid", "rsmi", "shared") not in cfg


def test_benchmark_cli_rejects_unknown_arguments(capsys):
    with pytest.raises(SystemExit):
        rg.benchmark_main(["--bogus"])
    assert rg.benchmark_main(["--chains", "4", "--length", "64", "--repeats", "1"]) == 0
    assert "ratio" in capsys.readouterr().out


def test_interval_straddling_delta_is_inconclusive_not_reproduced():
    # per-seed T_k deviations with mean 0.045 < delta but a t-interval reaching above delta
    pred = rg.rg_prediction("ising-away", 4)
    dev = np.r_[0.015, 0.075, 0.02, 0.07, 0.025, 0.065, 0.03, 0.06, 0.045, 0.045]
    th = np.tile(pred, (10, 1)); th[:, 1] += dev
    far = pred.copy(); far[1:] += 0.3
    rows = _rows([_result("ising-away", "denoise", th, _noisy(far), _noisy(far, seed=5))])
    row = rows["P2-Tk-ising-away-denoise-shared"]
    assert row.measured["estimate"] == pytest.approx(0.045, abs=1e-9)
    assert row.measured["low"] < rg.DELTA < row.measured["high"]
    assert row.verdict.startswith("inconclusive")


def test_gaussian_prediction_is_in_spearman_units():
    phi = rg.LAW_BY_NAME["gauss-away"].param
    expected = 6 / math.pi * np.arcsin(phi ** (2.0 ** np.arange(4)) / 2)
    np.testing.assert_allclose(rg.rg_prediction("gauss-away", 3), expected, atol=1e-14)
