"""rgnb.rg.estimators: every layer parameter is gauge invariant (lattice relabelling, monotone
reparametrisation of each unit), agrees with closed forms, and the permutation null destroys it."""

import math

import numpy as np
import pytest

from rgnb import rg


def _gauss_layer(phi=0.6, B=4000, n=32, seed=0):
    r, K, h = rg.gaussian_chain_natural(phi, 1.0, 0.0)
    return rg.sample_gaussian_chain(r, K, h, B, n, seed=seed)[None]       # (1, B, n)


def test_rank_correlation_invariant_under_monotone_maps_and_lattice_relabelling():
    z = _gauss_layer()
    base = rg.layer_rank_correlation(z)
    rng = np.random.default_rng(1)
    warped = z.copy()
    for j in range(z.shape[-1]):            # a different strictly monotone map per unit, some decreasing
        a = rng.uniform(0.2, 3)
        warped[..., j] = (np.exp(a * z[..., j]) if j % 3 else -z[..., j] ** 3 - 2 * z[..., j])
    np.testing.assert_allclose(rg.layer_rank_correlation(warped), base, atol=1e-12)
    np.testing.assert_allclose(rg.layer_rank_correlation(z[..., ::-1]), base, atol=1e-12)    # reflection
    np.testing.assert_allclose(rg.gaussian_neighbour_mi(rg.layer_rank_correlation(warped)),
                               rg.gaussian_neighbour_mi(base), atol=1e-12)


def test_rank_correlation_changes_under_a_permutation_of_units():
    z = _gauss_layer()
    perm = np.random.default_rng(2).permutation(z.shape[-1])
    assert rg.layer_rank_correlation(z)[0] > 0.35
    assert rg.layer_rank_correlation(z[..., perm])[0] < 0.1


def test_rank_correlation_matches_closed_forms():
    z = _gauss_layer(phi=0.6, B=20000)
    assert rg.layer_rank_correlation(z)[0] == pytest.approx(float(rg.gaussian_spearman(0.6)), abs=0.01)
    s = rg.sample_ising_chain(0.7, 0.0, 20000, 16, seed=3).astype(float)[None]
    assert rg.layer_rank_correlation(s)[0] == pytest.approx(math.tanh(0.7), abs=0.01)   # binary units: tanh K
    assert rg.correlation_length(math.tanh(0.7)) == pytest.approx(rg.ising_correlation_length(0.7))
    assert float(rg.spearman_to_pearson_gaussian(rg.gaussian_spearman(0.37))) == pytest.approx(0.37, abs=1e-12)


def test_skewness_invariant_under_affine_maps_and_relabelling():
    z = np.random.default_rng(4).gamma(0.5, 1.0, size=(1, 5000, 8))
    base = rg.layer_abs_skewness(z)
    scale = np.array([2.0, -0.5, 3.0, -1.0, 1.0, 0.1, -7.0, 4.0])
    np.testing.assert_allclose(rg.layer_abs_skewness(z * scale + 3.0), base, rtol=1e-10)
    np.testing.assert_allclose(rg.layer_abs_skewness(z[..., np.random.default_rng(5).permutation(8)]), base, rtol=1e-12)
    assert base[0] == pytest.approx(2 / math.sqrt(0.5), rel=0.15)


def test_jackknife_groups_se_matches_spread_over_replicates():
    vals, ses = [], []
    for s in range(12):
        v, se = rg.jackknife_groups(rg.layer_rank_correlation, _gauss_layer(B=1200, n=8, seed=s), 12)
        vals.append(v[0]), ses.append(se[0])
    assert np.std(vals, ddof=1) == pytest.approx(np.mean(ses), rel=0.5)


def test_estimators_reject_bad_inputs():
    with pytest.raises(ValueError, match="z must have shape"):
        rg.layer_rank_correlation(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="finite"):
        rg.layer_rank_correlation(np.full((1, 5, 4), np.nan))
    with pytest.raises(ValueError, match="rho must lie"):
        rg.gaussian_spearman(1.5)
    with pytest.raises(ValueError, match="n_groups"):
        rg.jackknife_groups(rg.layer_rank_correlation, np.zeros((1, 9, 4)), 5)
