"""Tests of rgnb.eft: closed forms, exact identities, Monte Carlo agreement within standard errors."""

import numpy as np
import pytest
from scipy import integrate, stats

from rgnb import eft


def test_relu_single_input_k0_is_exponential():
    K_in = np.array([[1.7]])
    t = np.linspace(0, 3, 13)
    for sw in (0.5, 1.0, 1.5):
        K0 = eft.solve_k0(K_in, 3.0, sw, "relu", t)[:, 0, 0]
        np.testing.assert_allclose(K0, 1.7 * np.exp(sw ** 2 * t / 2), rtol=1e-8)
    sol = eft.solve_g_only(K_in, 3.0, 1.0, "relu", t)
    np.testing.assert_allclose(sol.K0[:, 0, 0], 1.7 * np.exp(t / 2), rtol=1e-7)
    np.testing.assert_allclose(sol.K1, 0.0, atol=1e-7)  # F linear for one input: no one-loop shift


def _relu_pair_quad(kaa, kbb, kab):
    """E[relu(u) relu(v)] by 1-D adaptive quadrature over u, with E[relu(v) | u] in closed form."""
    sa = np.sqrt(kaa)
    c = kab / sa
    s = np.sqrt(kbb - c ** 2)

    def integrand(z):
        m = c * z
        e_relu_v = m * stats.norm.cdf(m / s) + s * stats.norm.pdf(m / s)
        return sa * z * e_relu_v * stats.norm.pdf(z)

    return integrate.quad(integrand, 0, np.inf, epsabs=1e-13, epsrel=1e-12)[0]


@pytest.mark.parametrize("kab", [-0.9, -0.3, 0.0, 0.5, 1.1])
def test_arc_cosine_matches_quadrature(kab):
    K = np.array([[1.3, kab], [kab, 1.0]])
    F = eft.relu_F(K)
    assert F[0, 1] == pytest.approx(_relu_pair_quad(1.3, 1.0, kab), rel=1e-9, abs=1e-12)
    assert F[0, 0] == pytest.approx(0.65, rel=1e-14)


def test_tanh_quadrature_converged_and_erf_closed_form():
    K = eft.input_kernel(eft.default_inputs()) * 2.5
    np.testing.assert_allclose(eft.gaussian_F(K, "tanh"), eft.gaussian_expectation_2d(K, np.tanh, m=250), atol=1e-9)
    erf_np = eft.get_activation("erf").phi_np
    np.testing.assert_allclose(eft.erf_F(K), eft.gaussian_expectation_2d(K, erf_np, m=120), atol=1e-10)


def test_finite_differences_against_analytic_derivatives():
    K = np.array([[0.8, 0.3], [0.3, 1.1]])
    # erf: F_12 = (2/pi) arcsin(2 K_12 / c), c fixed when only K_12 moves
    c = np.sqrt((1 + 1.6) * (1 + 2.2))
    y = 2 * 0.3 / c
    d1 = 2 / np.pi * (2 / c) / np.sqrt(1 - y ** 2)
    d2 = 2 / np.pi * (2 / c) ** 2 * y / (1 - y ** 2) ** 1.5
    J = eft.DF(K, "erf")  # packed order (11, 12, 22)
    assert J[1, 1] == pytest.approx(d1, rel=1e-9)
    V = np.zeros((3, 3))
    V[1, 1] = 1.0
    assert eft.D2F(K, "erf", V)[0, 1] == pytest.approx(d2, rel=1e-7)
    # Price's theorem for tanh: dF_12/dK_12 = E[tanh'(u) tanh'(v)]
    price = eft.gaussian_expectation_2d(K, lambda x: 1 / np.cosh(x) ** 2, m=80)[0, 1]
    assert eft.DF(K, "tanh")[1, 1] == pytest.approx(price, rel=1e-8)
    np.testing.assert_allclose(eft.DF(K, "linear"), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(eft.D2F(K, "linear", np.eye(3)), 0.0, atol=1e-8)


def test_linear_activation_v4_closed_form():
    K_in = eft.input_kernel(eft.default_inputs())
    t = np.linspace(0, 2, 9)
    sw = 0.8
    sol = eft.solve_g_only(K_in, 2.0, sw, "linear", t)
    K0 = K_in[None] * np.exp(sw ** 2 * t)[:, None, None]
    np.testing.assert_allclose(sol.K0, K0, rtol=1e-8)
    expect = (1 + 2 * sw ** 2 * t)[:, None, None] * eft.wishart(K0)
    np.testing.assert_allclose(sol.V4, expect, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sol.K1, 0.0, atol=1e-6)
    # the sigma-kernel closure coincides with the G-only one when phi is linear (S = G)
    sig = eft.solve_sigma_closure(K_in, 2.0, sw, "linear", t[::2], n_paths=100_000, refine=16, seed=1)
    r, _ = eft.relative_residual(sig.V4, expect[::2])
    assert r.max() < 0.04


def test_exact_and_naive_samplers_agree_in_distribution():
    """KS two-sample tests on every entry of G^L (alpha = 0.01, Bonferroni over 6 entries, fixed seed)."""
    X = eft.default_inputs()
    res, a, b = eft.two_sample_tests(X, 24, 4, 1.0, 1.0, "tanh", 1500, seed=3)
    assert eft.holm_min_p(res) > 0.01, res
    # and the test has power: a wrong step size is detected
    Gw = eft.simulate_kernels(X, 24, 4, 1.6, 1.0, "tanh", 1500, "exact", seed=5)
    assert stats.ks_2samp(eft.pack(Gw[:, -1])[:, 0], b[:, 0]).pvalue < 1e-6


def test_monte_carlo_mean_matches_k0_within_standard_errors():
    X = eft.default_inputs()
    K_in = eft.input_kernel(X)
    # linear phi: E[G^l] equals the infinite-width recursion exactly at every width
    mom = eft.kernel_moments(X, 8, 6, 1.0, 1.0, "linear", 8000, seed=11, n_groups=20)
    for blk in ("G", "C"):
        m, se = mom.mean(blk)
        z = (m - eft.pack(eft.k0_discrete(K_in, 6, 1.0, 1.0, "linear"))) / np.where(se > 0, se, 1)
        assert np.abs(z).max() < 4.5
    # layer 0: n Cov(G^0) is the Wishart covariance
    V0, se0 = mom.ncov("G", "G")
    assert np.abs((V0[0] - eft.wishart(K_in)) / se0[0]).max() < 4.5
    # ReLU at width 256: E[G] agrees with K0 to well within 1 % (1/n and O(eps) effects included)
    mom = eft.kernel_moments(X, 256, 16, 1.0, 1.0, "relu", 400, seed=12, n_groups=10)
    m, se = mom.mean("C")
    r, _ = eft.relative_residual(m, eft.pack(eft.solve_k0(K_in, 1.0, 1.0, "relu", mom.t)), se)
    assert r.max() < 0.01 and se.max() < 0.01


def test_validity_window():
    t = np.linspace(0, 1, 5)
    assert eft.validity_window(t, np.array([np.nan, 0.01, 0.05, 0.2, 0.05]), 0.1) == 0.5
    assert eft.validity_window(t, np.array([0.0, 0.3, 0.0, 0.0, 0.0]), 0.1) == 0.0
    assert eft.validity_window(t, np.zeros(5), 0.1) == 1.0


def test_bad_inputs_rejected():
    X = eft.default_inputs()
    K = eft.input_kernel(X)
    t = np.linspace(0, 1, 3)
    with pytest.raises(ValueError, match="width"):
        eft.simulate_kernels(X, 0, 2, 1.0, 1.0, "relu", 4)
    with pytest.raises(ValueError, match="depth"):
        eft.simulate_kernels(X, 4, 0, 1.0, 1.0, "relu", 4)
    with pytest.raises(ValueError, match=r"^T must be a finite number in \(0, "):
        eft.simulate_kernels(X, 4, 2, 0.0, 1.0, "relu", 4)
    with pytest.raises(ValueError, match=r"^T must be a finite number in \(0, "):
        eft.solve_g_only(K, -1.0, 1.0, "relu", t)
    with pytest.raises(ValueError, match="activation"):
        eft.simulate_kernels(X, 4, 2, 1.0, 1.0, "softsign", 4)
    with pytest.raises(ValueError, match="method"):
        eft.simulate_kernels(X, 4, 2, 1.0, 1.0, "relu", 4, method="fast")
    with pytest.raises(ValueError, match="n_networks"):
        eft.simulate_kernels(X, 4, 2, 1.0, 1.0, "relu", 0)
    with pytest.raises(ValueError, match="sigma_w"):
        eft.solve_g_only(K, 1.0, -1.0, "relu", t)
    with pytest.raises(ValueError, match="K_in"):
        eft.solve_g_only(np.array([[1.0, 2.0], [2.0, 1.0]]), 1.0, 1.0, "relu", t)
    with pytest.raises(ValueError, match="K_in"):
        eft.solve_g_only(np.array([[1.0, 0.5], [0.4, 1.0]]), 1.0, 1.0, "relu", t)
    with pytest.raises(ValueError, match=r"^X must have 2 dimension"):
        eft.simulate_kernels(np.ones(3), 4, 2, 1.0, 1.0, "relu", 4)
    with pytest.raises(ValueError, match="t_eval"):
        eft.solve_g_only(K, 1.0, 1.0, "relu", [0.0, 2.0])
    with pytest.raises(ValueError, match="tau"):
        eft.validity_window(t, np.zeros(3), 0.0)
    # the inputs issue 13 names: NaN in t_eval, a negative seed, a size beyond memory
    with pytest.raises(ValueError, match="t_eval"):
        eft.solve_g_only(K, 1.0, 1.0, "relu", [0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="seed"):
        eft.simulate_kernels(X, 4, 2, 1.0, 1.0, "relu", 4, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        eft.kernel_moments(X, 4, 2, 1.0, 1.0, "relu", 40, seed=-1)
    with pytest.raises(ValueError, match="n_networks"):
        eft.simulate_kernels(X, 4, 4096, 1.0, 1.0, "relu", 2**25)  # 2^25 x 4097 x 9 doubles: refused
    with pytest.raises(ValueError, match="width"):
        eft.simulate_kernels(X, 2**20, 2, 1.0, 1.0, "relu", 4)
    with pytest.raises(ValueError, match="n_paths"):
        eft.sigma_closure_discrete(K, 4, 1.0, 1.0, "relu", n_paths=10)
    with pytest.raises(ValueError, match="refine"):
        eft.solve_sigma_closure(K, 1.0, 1.0, "relu", t, refine=3)
    with pytest.raises(ValueError, match=r"^x must hold at least 2 distinct values"):
        eft.extrapolate_to_zero([1.0, 1.0], np.zeros(2), np.ones(2))


@pytest.mark.parametrize("act", ["tanh", "erf"])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_price_derivatives_equal_finite_differences(act, scale):
    """DF and D2F from Price's theorem against fourth-order finite differences of F (their stated accuracy:
    ~1e-9 in DF, ~1e-8 in D2F, relative to the scale of K), F against the activation's own F."""
    from rgnb.eft import gaussian as g
    K = scale * np.array([[1.0, 0.6, 0.0], [0.6, 1.2, -0.4], [0.0, -0.4, 0.8]])
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    V = A @ A.T
    a = g.get_activation(act)
    fd = g.Activation(a.name, a.phi, a.phi_np, a.d1_np, a.d2_np, a.F, a.F_method, a.F_deriv)  # no derivatives
    F, J, H = g.price_derivatives(K, a)
    np.testing.assert_allclose(F, eft.pack(a.F(K)), atol=1e-11)
    np.testing.assert_allclose(J, g.DF(K, fd), atol=1e-8)
    d2 = eft.unpack(np.einsum("rso,rs->o", H, V), 3)
    np.testing.assert_allclose(d2, g.D2F(K, fd, V), atol=5e-7)  # the finite differences' truncation error
    # the quadrature itself has converged: a finer rule changes nothing that matters
    F24, J24, H24 = g.price_derivatives(K, a, digits=24.0)
    np.testing.assert_allclose(J, J24, atol=1e-11)
    np.testing.assert_allclose(H, H24, atol=1e-9)
    np.testing.assert_allclose(g.D2F(K, a, V), d2, atol=1e-15)  # DF / D2F dispatch to Price
    assert np.allclose(H, np.swapaxes(H, 0, 1))  # a symmetric bilinear form
    with pytest.raises(ValueError, match="no derivatives"):
        g.price_derivatives(K, "relu")
