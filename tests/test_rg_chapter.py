"""rgnb.rg.evidence and rgnb.rg.registry: the v3 claims of the RG chapter (issue 23) on synthetic studies whose
answers are known: a feature layer at the exact RG passes P2-feature and one off by 2 delta does not, an untrained
control that passes too makes the test vacuous, a block-sum layer map reproduces P2-step and ours-block-sum and a
decimation map reproduces P2-step but not ours-block-sum, a placebo that passes too is vacuous, a network off the
certified optimum gives premise not met (counted), the registered primary decides; the registry and the CLI."""

import math

import numpy as np
import pytest

from rgnb import rg
from rgnb.claims import NOT_REPRODUCED, PREMISE_NOT_MET, REPRODUCED, VACUOUS, registry

E = 10
SPECS = {s.id: s for s in rg.REGISTRY}
NOISE = 0.5


def _hier(law, objective, arch, feature, init_feature, shuffled=None, gap=0.001, seed=0):
    """A synthetic HierarchyResult at the law's registered depth: the feature layer ~ ``feature`` (per seed noise
    0.003), the untrained one ~ ``init_feature``; every layer ``gap`` above the certified optimum."""
    L = rg.feature_depth(law, rg.DELTA)
    rng = np.random.default_rng(seed)
    pred = rg.rg_prediction(law, L)
    theta = np.tile(pred, (E, 1)) + 0.003 * rng.standard_normal((E, L + 1))
    theta[:, -1] = feature + 0.003 * rng.standard_normal(E)
    init = theta.copy()
    init[:, -1] = init_feature + 0.003 * rng.standard_normal(E)
    shuf = theta.copy()
    shuf[:, -1] = (0.0125 if shuffled is None else shuffled) + 0.003 * rng.standard_normal(E)
    if rg.LAW_BY_NAME[law].family == "gauss" and objective == "denoise":
        lf = np.tile(rg.denoise_optimum_per_layer(law, L, NOISE), (E, 1)) + gap
    else:
        lf = np.zeros((E, L))
    return rg.HierarchyResult(law, objective, arch, theta, init, shuf, lf + 1, lf,
                              np.full(E, 1e-3), np.zeros((E, 2)), 0.0)


def _study(results):
    return rg.Study(rg.SMOKE, {(r.law, r.objective, r.architecture): r for r in results}, 0.0)


def _map(key, trained, untrained, gap=0.001, seed=0):
    """A synthetic MapResult: layer-1 coupling ``trained(x)`` (and ``untrained(x)``) on the registered grid."""
    family, objective, arch = key
    grid = np.asarray(rg.config.MAP_GRID)
    rng = np.random.default_rng(seed)

    def theta(f):
        x = np.tile(grid[:, None], (1, E)) + 0.002 * rng.standard_normal((grid.size, E))
        y = np.clip(f(x) + 0.002 * rng.standard_normal(x.shape), -0.999, 0.999)
        to = (lambda v: rg.gaussian_spearman(v)) if family == "gauss" else (lambda v: v)
        return np.stack([to(np.clip(x, -0.999, 0.999)), to(y)], -1)
    opt = (rg.denoise_optimum_loss(grid, NOISE)[:, None].repeat(E, 1) if (family, objective) == ("gauss", "denoise")
           else np.full((grid.size, E), np.nan))
    return rg.MapResult(family, objective, arch, grid, theta(trained), theta(untrained), opt + gap, opt,
                        np.full((grid.size, E), 1e-3))


BLOCK = lambda x: x * (1 + x) / 2  # noqa: E731
DECIM = lambda x: x ** 2  # noqa: E731
CONTRACT = lambda x: 0.7 * x  # noqa: E731


class _Check:
    def __init__(self, z):
        self.z = z

    def max_z(self):
        return self.z


CHECKS = {k: _Check(1.5) for k in ("ising", "gauss", "gamma", "poisson", "normal")}
FLOOR = (0.0125, 0.0001, 0.0125)


def _rows(results, maps, checks=CHECKS):
    return {r.id: r for r in rg.build_claims(checks, _study(results), maps, FLOOR, "smoke",
                                             events=registry.load_history())}


def _default_results(feature=None, init_feature=0.3, gap=0.001):
    L = rg.feature_depth(rg.PRIMARY[0], rg.DELTA)
    f = rg.rg_prediction(rg.PRIMARY[0], L)[-1] if feature is None else feature
    return [_hier(*rg.PRIMARY, f, init_feature, gap=gap),
            _hier("gauss-away", "denoise", "shared", 0.013, 0.013, seed=1),
            _hier("ising-away", "rsmi", "shared", 0.013, 0.012, seed=2)]


def _default_maps(trained=BLOCK, untrained=CONTRACT, gap=0.001):
    return {rg.MAP_PRIMARY: _map(rg.MAP_PRIMARY, trained, untrained, gap),
            ("ising", "rsmi", "shared"): _map(("ising", "rsmi", "shared"), DECIM, CONTRACT, seed=3)}


def test_feature_layer_at_the_exact_rg_reproduces_and_off_by_two_delta_does_not():
    rows = _rows(_default_results(), _default_maps())
    assert rows["P2-feature"].verdict == REPRODUCED
    assert rows["P2-feature"].configuration == rg.configuration_name(*rg.PRIMARY)
    assert [s["verdict"] for s in rows["P2-feature"].subrows] == [VACUOUS, VACUOUS]   # away: untrained at theta* too
    off = _rows(_default_results(feature=2 * rg.DELTA), _default_maps())
    assert off["P2-feature"].verdict == NOT_REPRODUCED


def test_feature_layer_is_compared_with_the_exact_rg_at_its_depth_not_with_theta_star():
    """i.i.d. Gamma: the exact block sum at the registered depth is far from theta* = 0."""
    L = rg.feature_depth("gamma-iid", rg.DELTA)
    exact = rg.rg_prediction("gamma-iid", L)[-1]
    assert exact > 4 * rg.DELTA
    res = _default_results() + [_hier("gamma-iid", "denoise", "shared", exact, exact + 0.5, seed=4)]
    sub = {s["configuration"]: s for s in _rows(res, _default_maps())["P2-feature"].subrows}
    assert sub[rg.configuration_name("gamma-iid", "denoise", "shared")]["verdict"] == REPRODUCED


def test_untrained_feature_layer_that_passes_too_is_vacuous():
    rows = _rows(_default_results(init_feature=0.012), _default_maps())
    assert rows["P2-feature"].verdict == VACUOUS


def test_empty_row_away_from_criticality_and_its_positive_control():
    rows = _rows(_default_results(), _default_maps())
    assert rows["ours-empty"].verdict == REPRODUCED          # nulls within +-delta, the input layer detected
    assert set(rows["ours-empty"].effects) == {"untrained", "site-shuffled"}
    res = _default_results()
    res[1] = _hier("gauss-away", "denoise", "shared", 0.013, 0.013, shuffled=0.2, seed=1)
    assert _rows(res, _default_maps())["ours-empty"].verdict == NOT_REPRODUCED


def test_block_sum_map_reproduces_step_and_block_sum_rows():
    rows = _rows(_default_results(), _default_maps())
    assert rows["P2-step"].verdict == REPRODUCED
    assert rows["ours-block-sum"].verdict == REPRODUCED
    assert rows["ours-block-sum"].subrows[0]["verdict"] == NOT_REPRODUCED   # the decimation map (ising sub-row)
    same = _rows(_default_results(), _default_maps(untrained=BLOCK))
    assert same["ours-block-sum"].verdict == VACUOUS                          # a control at the block sum too


def test_decimation_map_is_an_rg_step_but_not_the_block_sum():
    rows = _rows(_default_results(), _default_maps(trained=DECIM))
    assert rows["P2-step"].verdict == REPRODUCED
    assert rows["ours-block-sum"].verdict == NOT_REPRODUCED


def test_placebo_map_that_passes_too_is_vacuous_and_a_contraction_fails():
    assert _rows(_default_results(), _default_maps(untrained=BLOCK))["P2-step"].verdict == VACUOUS
    assert _rows(_default_results(), _default_maps(trained=CONTRACT))["P2-step"].verdict == NOT_REPRODUCED


def test_off_the_certified_optimum_is_premise_not_met_with_networks_counted():
    rows = _rows(_default_results(gap=2 * rg.GAP_BOUND), _default_maps(gap=2 * rg.GAP_BOUND))
    assert rows["P2-feature"].verdict == PREMISE_NOT_MET
    assert rows["P2-feature"].premise_detail.startswith(f"0/{E} networks within")
    assert rows["P2-step"].verdict == PREMISE_NOT_MET
    assert rows["P2-step"].premise_detail.startswith(f"0/{E * len(rg.config.MAP_GRID)} networks within")
    ok, detail = rg.premise(None, np.array([1e-3, 0.5]))
    assert not ok and detail.startswith("1/2 networks stationary")


def test_fc_row_is_exact_and_reproduced():
    row = _rows(_default_results(), _default_maps())["ours-fc-ill-posed"]
    assert row.verdict == REPRODUCED and row.effects["spread over the optimal set"]["method"] == "exact"
    assert row.effects["spread over the optimal set"]["estimate"] > 1.0


def test_primary_must_be_measured_and_row_inventory():
    with pytest.raises(ValueError, match="primary"):
        _rows(_default_results()[1:], _default_maps())
    rows = _rows(_default_results(), _default_maps())
    assert list(rows) == [s.id for s in rg.REGISTRY]
    assert rows["B-noise-floor"].verdict == REPRODUCED


def test_sanity_check_fails_above_its_bound():
    rows = _rows(_default_results(), _default_maps(), checks=dict(CHECKS, gamma=_Check(rg.Z_MAX + 0.5)))
    assert rows["A-map-iid"].verdict == NOT_REPRODUCED


def test_registry_is_static_and_every_spec_registered():
    events = registry.load_history()
    for spec in rg.REGISTRY:
        assert registry.registered_hash(spec.id, events) == spec.spec_hash(), spec.id
    assert {s.id for s in rg.REGISTRY if s.source == "P2"} == {"P2-feature", "P2-step"}
    assert SPECS["P2-feature"].margin == rg.DELTA and SPECS["P2-step"].margin == rg.EIG_MARGIN
    assert SPECS["ours-block-sum"].margin == rg.SCHEME_MARGIN


def test_configurations_never_pool_and_skip_rsmi_on_iid():
    cfg = rg.configurations()
    assert len(cfg) == len(set(cfg)) == 18
    assert ("gamma-iid", "rsmi", "shared") not in cfg


def test_benchmark_cli_rejects_unknown_arguments(capsys):
    with pytest.raises(SystemExit):
        rg.benchmark_main(["--bogus"])
    assert rg.benchmark_main(["--chains", "4", "--length", "64", "--repeats", "1"]) == 0


def test_predictions_in_the_layer_parameter():
    phi = rg.LAW_BY_NAME["gauss-away"].param
    np.testing.assert_allclose(rg.rg_prediction("gauss-away", 3),
                               6 / math.pi * np.arcsin(phi ** (2.0 ** np.arange(4)) / 2), atol=1e-14)
    np.testing.assert_allclose(rg.rg_prediction("gamma-iid", 2), 2 / math.sqrt(0.5) * np.array([1, 2 ** -0.5, 0.5]))
    np.testing.assert_allclose(rg.rg_prediction("ising-near", 2), math.tanh(2.0) ** np.array([1, 2, 4]))
    assert np.isnan(rg.block_sum_prediction("ising-near", 3)).all()
    np.testing.assert_allclose(rg.block_sum_prediction("gauss-away", 1)[1],
                               rg.gaussian_spearman(phi * (1 + phi) / 2), atol=1e-12)
