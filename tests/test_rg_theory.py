"""rgnb.rg.theory (issue 23): the layer-map estimator recovers the exact decimation and block-sum maps (fixed points
and eigenvalues) from synthetic layer data, the closed-form noise floor agrees with simulation, the certified-optimum
premise holds on a network at the optimum and fails on one perturbed from it, the order-breaking null changes the
statistic on ordered data (and not on i.i.d. data), and the registered depth rule."""

import numpy as np
import pytest
import torch

from rgnb import rg
from rgnb.rg.config import MAP_GRID


@pytest.mark.parametrize("scheme", ["decimation", "block sum"])
def test_estimator_recovers_exact_maps_from_exact_points(scheme):
    exact = rg.exact_layer_map(scheme)
    x = np.asarray(MAP_GRID)
    m = rg.fit_layer_map(x, exact(x))
    ev = rg.EXACT_EIGENVALUES[scheme]
    assert m.fixed_trivial == pytest.approx(0.0, abs=1e-9) and m.fixed_critical == pytest.approx(1.0, abs=1e-9)
    assert m.eig_trivial == pytest.approx(ev["trivial"], abs=1e-9)
    assert m.eig_critical == pytest.approx(ev["critical"], abs=1e-9)


@pytest.mark.parametrize("scheme,coarsen", [("decimation", lambda x: x[..., ::2]),
                                            ("block sum", lambda x: x[..., ::2] + x[..., 1::2])])
def test_estimator_recovers_exact_maps_from_sampled_chains(scheme, coarsen):
    """Layer data measured the chapter's way: Gaussian chains on the grid, their layer parameter before and after
    one exact coarse-graining step, converted to the coupling, fitted."""
    th0, th1 = [], []
    for i, phi in enumerate(MAP_GRID):
        r, K, h = rg.gaussian_chain_natural(phi, 1.0, 0.0)
        x = rg.sample_gaussian_chain(r, K, h, 4096, 64, seed=10 + i)
        th0.append(rg.layer_rank_correlation(x[None])[0])
        th1.append(rg.layer_rank_correlation(coarsen(x)[None])[0])
    m = rg.fit_layer_map(rg.natural_coupling(np.array(th0), "gauss"), rg.natural_coupling(np.array(th1), "gauss"))
    ev = rg.EXACT_EIGENVALUES[scheme]
    assert abs(m.fixed_trivial) < 0.03 and abs(m.fixed_critical - 1) < 0.03
    assert abs(m.eig_trivial - ev["trivial"]) < 0.1 and abs(m.eig_critical - ev["critical"]) < 0.1
    other = rg.EXACT_EIGENVALUES["block sum" if scheme == "decimation" else "decimation"]
    assert abs(m.eig_critical - other["critical"]) > 0.3          # the two schemes are told apart


def test_fixed_points_of_a_contraction_and_bad_input():
    m = rg.fit_layer_map(np.asarray(MAP_GRID), 0.7 * np.asarray(MAP_GRID))
    assert m.fixed_critical == pytest.approx(0.0, abs=1e-9) and m.eig_critical == pytest.approx(0.7)
    with pytest.raises(ValueError):
        rg.fit_layer_map([0.1, 0.1, 0.1], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("B,n", [(4096, 4), (512, 8)])
def test_noise_floor_matches_simulation(B, n):
    mean, sd = rg.rank_noise_floor(B, n)
    sim = rg.layer_rank_correlation(np.random.default_rng(B).standard_normal((1500, B, n)))
    assert abs(sim.mean() - mean) < 4 * sim.std() / np.sqrt(sim.size)
    assert sim.std() == pytest.approx(sd, rel=0.1)
    assert rg.rank_noise_floor(4096, 4)[0] < rg.DELTA / 3          # the registered margin sits well above it


def _one_layer_loss(w, phi=0.5, sigma=0.5, B=200_000):
    """Local denoising loss of a one-layer shared linear hierarchy with encoder ``w`` and its optimal decoder."""
    law = rg.LAW_BY_NAME["gauss-away"]
    spec = rg.HierarchySpec(8, 1, "shared", "linear", "denoise", noise=sigma)
    x = torch.as_tensor(rg.sample_law(law, B, 8, seed=3))[None]
    w = torch.tensor(w, dtype=torch.float32)
    a, b = float(w[0]), float(w[1])
    var_z = a * a + b * b + 2 * a * b * phi + sigma ** 2 * (a * a + b * b)
    v = torch.tensor([(a + b * phi) / var_z, (a * phi + b) / var_z], dtype=torch.float32)
    layers = [{"w": w.reshape(1, 1, 2), "b": torch.zeros(1, 1), "v": v.reshape(1, 1, 2), "c": torch.zeros(1, 1, 2)}]
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    return rg.local_losses(layers, x, spec, noise).numpy()[0]


def test_certified_premise_at_the_optimum_and_perturbed():
    opt = rg.denoise_optimum_per_layer("gauss-away", 1, 0.5)
    gap_opt = _one_layer_loss([1.0, 1.0]) - opt
    gap_off = _one_layer_loss([1.0, 0.3]) - opt
    assert abs(gap_opt[0]) < 3e-3
    assert rg.premise(gap_opt, np.zeros(1))[0]
    assert gap_off[0] > rg.GAP_BOUND and not rg.premise(gap_off, np.zeros(1))[0]
    dec_gap = _one_layer_loss([1.0, 0.0]) - opt                    # decimation: the bound's stated reason
    assert dec_gap[0] > 10 * rg.GAP_BOUND


def test_order_breaking_null_changes_the_statistic_on_ordered_data_only():
    rng = np.random.default_rng(0)
    r, K, h = rg.gaussian_chain_natural(0.9, 1.0, 0.0)
    x = rg.sample_gaussian_chain(r, K, h, 2048, 64, seed=1)[None]
    before = rg.layer_rank_correlation(x)[0]
    after = rg.layer_rank_correlation(rg.shuffle_sites(x, rng))[0]
    assert before > 0.8 and after < 0.3
    iid = rng.gamma(0.5, size=(1, 2048, 64))
    np.testing.assert_allclose(rg.layer_abs_skewness(rg.shuffle_sites(iid, rng)), rg.layer_abs_skewness(iid))
    with pytest.raises(ValueError):
        rg.shuffle_sites(x[0], rng)


def test_registered_depth_rule():
    assert {law.name: rg.feature_depth(law.name, rg.DELTA) for law in rg.LAWS} == {
        "ising-away": 3, "ising-near": 7, "gauss-away": 5, "gauss-near": 9, "gamma-iid": rg.IID_DEPTH}
    for law in ("gauss-near", "ising-near"):
        L = rg.feature_depth(law, rg.DELTA)
        assert rg.rg_prediction(law, L)[-1] < rg.DELTA / 2 <= max(rg.rg_prediction(law, L - 1)[-1],
                                                                   np.nan_to_num(rg.block_sum_prediction(law, L - 1)[-1]))


def test_midranks_equal_scipy_with_ties():
    from scipy import stats
    z = np.random.default_rng(1).integers(0, 4, (3, 40, 5)).astype(float)
    np.testing.assert_array_equal(rg.midranks(z), stats.rankdata(z, method="average", axis=-2))
    z = np.random.default_rng(2).standard_normal((3, 40, 5))
    np.testing.assert_array_equal(rg.midranks(z, axis=-1), stats.rankdata(z, method="average", axis=-1))
