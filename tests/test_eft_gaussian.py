"""The tanh F's stated accuracy, against 30-digit mpmath quadrature."""

import mpmath as mp
import numpy as np
import pytest

from rgnb import eft


def _tanh_sq_mp(k: float) -> mp.mpf:
    with mp.workdps(30):
        f = lambda z: mp.tanh(mp.sqrt(k) * z) ** 2 * mp.exp(-z * z / 2) / mp.sqrt(2 * mp.pi)  # noqa: E731
        return mp.quad(f, mp.linspace(-12, 12, 49))


@pytest.mark.parametrize("k", [0.5, 1.5, 3.0, 8.0])
def test_tanh_F_accuracy_statement_holds(k):
    F = eft.tanh_F(np.array([[k]]))[0, 0]
    err = abs(float(_tanh_sq_mp(k) - mp.mpf(F)))
    assert err < eft.TANH_F_ACCURACY


def test_tanh_F_off_diagonal_self_converged():
    """Off-diagonal entries: the rule at the stated step agrees with a much finer one to the stated accuracy."""
    K = np.array([[3.0, 1.2, -0.5], [1.2, 2.0, 0.3], [-0.5, 0.3, 8.0]])
    fine = eft.trapezoid_expectation_2d(K, np.tanh, digits=26, half_width=11.0)
    assert np.abs(eft.tanh_F(K) - fine).max() < eft.TANH_F_ACCURACY


def test_hessian_contraction_closed_forms():
    """1/2 sum c_cd d2(phi_a phi_b) for linear phi is c_ab; for ReLU, single input, it is c 1{h > 0}."""
    rng = np.random.default_rng(0)
    h = rng.standard_normal((50, 2))
    c = rng.standard_normal((50, 3))
    np.testing.assert_allclose(eft.hessian_contraction(h, c, "linear"), c, atol=1e-14)
    h1 = rng.standard_normal((50, 1))
    c1 = rng.standard_normal((50, 1))
    np.testing.assert_allclose(eft.hessian_contraction(h1, c1, "relu"), c1 * (h1 > 0), atol=1e-14)
    # the ReLU delta terms, in expectation over the last increment, against a Monte Carlo of a smoothed delta
    x_prev = np.array([[0.3, -0.2]])
    D = np.array([[0.2, 0.05], [0.05, 0.1]])
    cc = np.array([[1.0, 0.0, 0.0]])  # only c_11: term c_11 delta(h_1) relu(h_2) / 2
    got = eft.hessian_contraction(x_prev, cc, "relu", x_prev, D)[0, 1]
    xi = rng.multivariate_normal([0, 0], D, size=400_000)
    hh = x_prev + xi
    bw = 0.01
    delta = np.exp(-hh[:, 0] ** 2 / (2 * bw ** 2)) / np.sqrt(2 * np.pi) / bw
    want = 0.5 * np.mean(delta * np.maximum(hh[:, 1], 0)) + 0.0  # cross term: c_12 = 0
    # the sample-based cross term is zero here, so the whole entry is the delta term
    assert got == pytest.approx(want, rel=0.05)


def _erf_F_mp(kaa: float, kbb: float, kab: float) -> mp.mpf:
    """The Williams arcsine kernel at 50 digits on the float64 inputs as given."""
    with mp.workdps(50):
        kaa, kbb, kab = mp.mpf(kaa), mp.mpf(kbb), mp.mpf(kab)
        return 2 / mp.pi * mp.asin(2 * kab / mp.sqrt((1 + 2 * kaa) * (1 + 2 * kbb)))


def test_erf_F_relative_accuracy_on_its_whole_domain():
    """< 1e-15 relative for 1e-8 <= K_aa <= 1e8, correlations anywhere in [-1, 1] (near +-1 and 0 included):
    the arcsin form reached 1e-12 at K_aa = 1e8."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for dec in range(-8, 9):
        for i in range(24):
            kaa, kbb = 10.0 ** np.clip(dec + rng.uniform(-0.5, 0.5, 2), -8, 8)
            rho = [rng.uniform(-1, 1), 1 - 10.0 ** rng.uniform(-15, -1), -1 + 10.0 ** rng.uniform(-15, -1),
                   1.0, 1e-9][i % 5]
            kab = rho * np.sqrt(kaa * kbb)
            K = np.array([[kaa, kab], [kab, kbb]])
            F = eft.erf_F(K)
            for a, b in ((0, 0), (1, 1), (0, 1)):
                ref = _erf_F_mp(K[a, a], K[b, b], K[a, b])
                worst = max(worst, float(abs((mp.mpf(F[a, b]) - ref) / ref)))
    assert worst < 1e-15
    assert eft.erf_F(np.array([[2.0, 0.0], [0.0, 3.0]]))[0, 1] == 0.0
