"""rgnb.rg: RG maps against closed forms, Monte Carlo decimation within standard errors, the
closed-form linear optima (and the fully connected DAE's gauge freedom), and rejection of parameters outside their domain."""

import dataclasses
import math

import numpy as np
import pytest

from rgnb import rg

SZ = dataclasses.replace(rg.SMOKE, n_chains=24, chain_length=2 ** 12, rg_steps=3, n_iid=2 ** 16, n_groups=24)


# ----------------------------------------------------------------------------- maps, closed forms
@pytest.mark.parametrize("K", [0.05, 0.3, 0.8, 1.7, -0.6])
def test_ising_zero_field_is_tanh_squared(K):
    Kp, hp = rg.ising_decimation(K, 0.0)
    assert math.tanh(Kp) == pytest.approx(math.tanh(K) ** 2, rel=1e-12, abs=1e-14)
    assert hp == 0.0


def test_ising_field_map_matches_brute_force_partial_trace():
    # sum over the middle spin of exp(K s1 s2 + K s2 s3 + h s2) = A exp(K' s1 s3 + dh (s1 + s3) / 2)
    rng = np.random.default_rng(1)
    for K, h in rng.normal(size=(6, 2)):
        Kp, hp = rg.ising_decimation(K, h)
        w = {(a, c): sum(math.exp(K * a * s + K * s * c + h * s) for s in (1, -1)) for a in (1, -1) for c in (1, -1)}
        assert 0.25 * math.log(w[1, 1] * w[-1, -1] / w[1, -1] ** 2) == pytest.approx(Kp, abs=1e-12)
        assert h + 0.5 * math.log(w[1, 1] / w[-1, -1]) == pytest.approx(hp, abs=1e-12)


def test_ising_flow_fixed_point_and_correlation_length_halves():
    Ks, hs = rg.ising_flow(1.2, 0.0, 30)
    assert Ks[-1] < 1e-12 and np.all(np.diff(Ks[:6]) < 0)           # K* = 0 is stable
    xi = rg.ising_correlation_length(Ks[:4])
    np.testing.assert_allclose(xi[1:] / xi[:-1], 0.5, rtol=1e-12)
    K = np.array([0.2, 0.7]); Kp, _ = rg.ising_decimation(K, np.zeros(2))  # vectorised
    np.testing.assert_allclose(np.tanh(Kp), np.tanh(K) ** 2)


def test_gaussian_chain_map_closed_forms_and_fixed_points():
    r, K, h = 2.0, 0.7, 0.3
    rp, Kp, hp = rg.gaussian_chain_decimation(r, K, h)
    assert (rp, Kp, hp) == pytest.approx((r - 2 * K ** 2 / r, K ** 2 / r, h * (1 + 2 * K / r)))
    u = 2 * K / r
    assert 2 * Kp / rp == pytest.approx(u ** 2 / (2 - u ** 2)) == pytest.approx(rg.u_map(u))
    # the mean h / (r - 2K) is invariant
    assert hp / (rp - 2 * Kp) == pytest.approx(h / (r - 2 * K))
    # fixed points 0 and 1, eigenvalue 4 at u* = 1 (closed form and finite difference)
    assert rg.u_map(0.0) == 0.0 and rg.u_map(1.0) == 1.0
    assert rg.u_map_derivative(1.0) == 4.0
    assert (rg.u_map(1.0) - rg.u_map(1 - 1e-7)) / 1e-7 == pytest.approx(4.0, rel=1e-5)
    assert rg.u_map_derivative(0.0) == 0.0
    assert rg.u_flow(0.999, 40)[-1] < 1e-12
    # decimation is phi -> phi^2 in the AR(1) form
    phi, var, mu = rg.gaussian_chain_ar1(r, K, h)
    phip, varp, mup = rg.gaussian_chain_ar1(rp, Kp, hp)
    assert phip == pytest.approx(phi ** 2) and varp == pytest.approx(var) and mup == pytest.approx(mu)
    assert rg.gaussian_chain_natural(phi, var, mu) == pytest.approx((r, K, h))


def test_block_sum_cumulants_scale_as_b_to_one_minus_m_over_2():
    flow = rg.block_sum_flow("gamma", (0.5, 2.0), 5)
    for m in (3, 4, 5):
        c = np.array([rg.standardised_cumulant("gamma", tuple(p), m) for p in flow])
        np.testing.assert_allclose(c[1:] / c[:-1], 2.0 ** (1 - m / 2), rtol=1e-12)
    fp = rg.block_sum_flow("poisson", (0.3, 1.0), 4)
    np.testing.assert_allclose(fp[:, 0] * fp[:, 1] ** 2, 0.3)      # variance kept by b^{-1/2}


# ----------------------------------------------------------------------------- Monte Carlo vs maps
def test_ising_sampler_and_estimator_agree_with_map_within_4_se():
    c = rg.check_ising_decimation(0.9, 0.25, SZ, seed=3)
    assert c.max_z() < 4.0
    assert np.all(c.se["K"] > 0)


def test_ising_sampler_stationary_magnetisation():
    s = rg.sample_ising_chain(0.5, 0.3, 64, 2048, seed=2)
    per_chain = s.mean(1)
    se = per_chain.std(ddof=1) / math.sqrt(per_chain.size)
    assert abs(per_chain.mean() - rg.ising_magnetisation(0.5, 0.3)) < 4 * se


def test_gaussian_chain_decimation_monte_carlo_within_4_se():
    c = rg.check_gaussian_decimation(1.0, 0.45, 0.2, SZ, seed=4)
    assert c.max_z() < 4.0


@pytest.mark.parametrize("family,params", [("gamma", (0.5, 1.0)), ("poisson", (0.7, 1.0)), ("normal", (0.2, 1.5))])
def test_block_sum_monte_carlo_within_4_se(family, params):
    c = rg.check_block_sum(family, params, SZ, seed=5)
    assert c.max_z() < 4.0


# ----------------------------------------------------------------------------- closed-form network case
def test_linear_dae_optimum_matches_derivation():
    C = rg.gaussian_chain_covariance(0.7, 16)
    opt = rg.linear_dae_optimum(C, 4, 0.5)
    W, D = opt.encoder(), opt.decoder()
    assert rg.linear_dae_loss(W, D, C, 0.5) == pytest.approx(opt.loss, rel=1e-12)
    # first-order optimality: the gradient of the exact loss vanishes at (W, D)
    S = C + 0.25 * np.eye(16)
    gD = -2 * C @ W.T + 2 * D @ W @ S @ W.T
    gW = -2 * D.T @ C + 2 * D.T @ D @ W @ S
    assert np.abs(gD).max() < 1e-10 and np.abs(gW).max() < 1e-10
    # no random rank-4 network does better; the full-rank Wiener filter is a lower bound
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert rg.linear_dae_loss(W + 0.05 * rng.normal(size=W.shape), D, C, 0.5) > opt.loss
    wiener = np.trace(C - C @ np.linalg.solve(S, C)) / 16
    assert wiener < opt.loss


def test_theorem_is_gauge_dependent_at_the_linear_optimum():
    C = rg.gaussian_chain_covariance(0.7, 16)
    opt = rg.linear_dae_optimum(C, 8, 0.5)
    assert rg.feature_u_exact(opt.encoder(), C) == pytest.approx(0.0, abs=1e-12)   # PCA gauge: u = 0
    for p in (-0.6, 0.3, 0.9):
        A = opt.gauge_for_feature_correlation(p)
        assert rg.linear_dae_loss(opt.encoder(A), opt.decoder(A), C, 0.5) == pytest.approx(opt.loss, rel=1e-9)
        assert rg.feature_u_exact(opt.encoder(A), C) == pytest.approx(rg.phi_to_u(p), abs=1e-9)


def test_rsmi_linear_optimum_uses_the_block_boundary():
    w, r2, u = rg.rsmi_linear_optimum(0.7, 2, 2, 4)
    np.testing.assert_allclose(w, [0.5, 0.5], atol=1e-9)
    # exact coarse correlation of x1 + x2: phi (1 + phi) / 2
    p = 0.7 * 1.7 / 2
    assert u == pytest.approx(2 * p / (1 + p ** 2))
    w4, _, _ = rg.rsmi_linear_optimum(0.7, 4, 2, 4)
    np.testing.assert_allclose(w4, [0.5, 0, 0, 0.5], atol=1e-9)    # Markov: only the boundary sites matter


def test_fc_dae_gauge_scan_every_u_is_optimal_and_relabelling_changes_it():
    scan = rg.fc_dae_gauge_scan(0.7, 16, 8, 0.5, np.array([-0.6, 0.0, 0.5, 0.9]))
    assert np.max(np.abs(scan["excess"])) < 1e-9
    np.testing.assert_allclose(scan["u"], rg.phi_to_u(np.array([-0.6, 0.0, 0.5, 0.9])), atol=1e-9)
    assert abs(scan["u_pca"]) < 1e-12
    assert abs(scan["u_gauge05_permuted"] - scan["u_gauge05"]) > 0.3   # relabelling units changes the "parameter"


# ----------------------------------------------------------------------------- domains
def test_bad_parameters_rejected():
    with pytest.raises(ValueError, match=r"r > 2\|K\|"):
        rg.gaussian_chain_decimation(1.0, 0.5)
    with pytest.raises(ValueError, match=r"r > 2\|K\|"):
        rg.sample_gaussian_chain(1.0, -0.6, 0.0, 2, 10)
    with pytest.raises(ValueError, match=r"\|u\| <= 1"):
        rg.u_map(1.2)
    with pytest.raises(ValueError, match="shape must be a finite number"):
        rg.block_sum_map("gamma", (-1.0, 1.0))
    with pytest.raises(ValueError, match="lam must be a finite number"):
        rg.sample_iid("poisson", (0.0, 1.0), 10)
    with pytest.raises(ValueError, match="family"):
        rg.block_sum_map("beta", (1.0, 1.0))
    with pytest.raises(ValueError, match="finite"):
        rg.ising_decimation(np.inf)
    with pytest.raises(ValueError, match="n_chains"):
        rg.sample_ising_chain(0.5, 0.0, 0, 10)
    with pytest.raises(ValueError, match="M must be"):
        rg.linear_dae_optimum(np.eye(4), 5, 0.1)


def test_u_to_phi_matches_mpmath_on_the_whole_domain():
    """phi = u / (1 + sqrt(1 - u^2)) to < 1e-15 relative on |u| <= 1 (u = 0, 1e-300, 1e-10 and |u| -> 1
    included); the form (1 - sqrt(1 - u^2)) / u lost every digit below u ~ 1.5e-8."""
    mp = pytest.importorskip("mpmath")
    rng = np.random.default_rng(0)
    u = np.r_[0.0, 1e-300, 1e-200, 1e-16, 1e-10, 1e-8, 1.5e-8, 1e-4, np.linspace(-1, 1, 201), 1 - 1e-16,
              1 - 1e-12, 1 - 1e-8, 10.0 ** rng.uniform(-12, 0, 200)]
    u = np.r_[u, -u]
    phi = np.asarray(rg.u_to_phi(u))
    assert phi.dtype == np.float64 and phi.shape == u.shape
    with mp.workdps(50):
        ref = [mp.mpf(x) / (1 + mp.sqrt(1 - mp.mpf(x) ** 2)) for x in u]
        err = [0.0 if r == 0 else float(abs((mp.mpf(p) - r) / r)) for p, r in zip(phi, ref)]
    assert max(err) < 1e-15
    assert rg.u_to_phi(0.0) == 0.0 and rg.u_to_phi(1.0) == 1.0 and rg.u_to_phi(-1.0) == -1.0
    assert rg.u_to_phi(1e-10) == pytest.approx(5e-11, rel=1e-15)
