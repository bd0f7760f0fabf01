"""Extrapolation to eps -> 0 / 1/n -> 0, residuals and the validity window."""

import numpy as np
import pytest

from rgnb import eft


def test_extrapolation_recovers_a_known_limit_with_honest_errors():
    """y(eps) = 2 - 3 eps + 0.5 eps^2 sampled with noise at eps = T / L, L = 32..256: the straight-line
    fit's intercept covers the (nearly linear) limit about 95 % of the time; a strong curvature is
    flagged by the fit's chi^2 (the chapter's premise)."""
    rng = np.random.default_rng(0)
    eps = 4.0 / np.array([32, 64, 128, 256])
    truth = 2 - 3 * eps + 0.5 * eps ** 2
    se = np.array([0.02, 0.02, 0.03, 0.04])
    hits, n_rep = 0, 2000
    y = truth[:, None] + se[:, None] * rng.standard_normal((4, n_rep))
    fit = eft.extrapolate_to_zero(eps, y, np.broadcast_to(se[:, None], y.shape))
    hits = np.mean(np.abs(fit.value - 2.0) < 1.96 * fit.se)
    assert 0.90 < hits < 0.99, hits
    curved = eft.extrapolate_to_zero(eps, (2 - 3 * eps + 40 * eps ** 2)[:, None] + y - truth[:, None],
                                     np.broadcast_to(se[:, None], y.shape))
    assert np.median(curved.chi2) > 4 > np.median(fit.chi2)
    # the standard error is the weighted least-squares one
    w = 1 / se ** 2
    S0, S1, S2 = w.sum(), (w * eps).sum(), (w * eps ** 2).sum()
    np.testing.assert_allclose(fit.se, np.sqrt(S2 / (S0 * S2 - S1 ** 2)), rtol=1e-12)
    # noiseless straight line: exact intercept, and se = 0 entries are an exact fit
    exact = eft.extrapolate_to_zero(eps, (1.5 + 0.7 * eps)[:, None], np.zeros((4, 1)))
    assert exact.value[0] == pytest.approx(1.5, abs=1e-12) and exact.se[0] == 0.0


def test_extrapolation_in_inverse_width():
    n = np.array([32, 128, 512])
    y = 10.0 + 40.0 / n
    fit = eft.extrapolate_to_zero(1.0 / n, y, 0.01 * np.ones(3))
    assert fit.value == pytest.approx(10.0, abs=1e-10)
    assert fit.slope == pytest.approx(40.0, rel=1e-10)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-12)


def test_two_stage_extrapolation_on_a_known_eps_and_width_law():
    """y(eps, n) = a + b eps + c / n + noise on the chapter's grid (eps = 16 / L, L = 64, 128, 256; n = 32, 128,
    512): extrapolating in eps at each width and then in 1/n (as a study does) recovers a, its 95 % interval
    covering it about 95 % of the time, and each width's eps -> 0 value covers a + c / n."""
    rng = np.random.default_rng(2)
    eps = 16.0 / np.array([64, 128, 256])
    widths = np.array([32, 128, 512])
    a, b, c = 1.5, -2.0, 8.0
    se = np.array([0.01, 0.015, 0.02])
    reps = 2000
    per_width, covered_n = [], []
    for n in widths:
        y = (a + b * eps + c / n)[:, None] + se[:, None] * rng.standard_normal((3, reps))
        fit = eft.extrapolate_to_zero(eps, y, np.broadcast_to(se[:, None], y.shape))
        covered_n.append(np.mean(np.abs(fit.value - (a + c / n)) < 1.96 * fit.se))
        per_width.append(fit)
    lead = eft.extrapolate_to_zero(1.0 / widths, np.stack([f.value for f in per_width]),
                                   np.stack([f.se for f in per_width]))
    assert min(covered_n) > 0.92
    assert 0.92 < np.mean(np.abs(lead.value - a) < 1.96 * lead.se) < 0.98
    assert np.median(lead.slope) == pytest.approx(c, rel=0.05)


def test_residual_in_se_and_window_bounds():
    est = np.array([[1.0, 2.0], [1.0, 2.0]])
    ref = np.array([[1.1, 2.0], [1.0, 2.0]])
    se = np.array([[0.1, 0.0], [0.1, 0.1]])
    np.testing.assert_allclose(eft.residual_in_se(est, ref, se), [1.0, 0.0])
    t = np.linspace(0, 1, 5)
    r = np.array([0.0, 0.05, 0.08, 0.2, 0.3])
    s = np.full(5, 0.02)
    assert eft.window_bounds(t, r, s, 0.1) == (0.5, 0.25, 0.5)
    assert eft.validity_window(t, np.array([np.nan, 0.01, 0.05, 0.2, 0.05]), 0.1) == 0.5


def test_holm_correction_of_the_sampler_family():
    res = [eft.TwoSampleResult(8, 2, f"G_{i}", 0.1, p) for i, p in enumerate([0.004, 0.3, 0.5, 0.9, 0.2, 0.7])]
    assert eft.holm_min_p(res) == pytest.approx(0.024)  # 6 tests: 6 x 0.004, not rejected at 0.01
    assert eft.holm_min_p(res[:1]) == pytest.approx(0.004)
