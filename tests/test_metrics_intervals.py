"""Tests of rgnb.metrics.intervals: intervals over seeds and of a least-squares slope."""

import numpy as np
import pytest

from rgnb import metrics


def test_seed_ci_and_band():
    ci = metrics.seed_ci([1.0, 2.0, 3.0, 4.0])
    assert ci.estimate == pytest.approx(2.5) and ci.low < 2.5 < ci.high
    mean, lo, hi = metrics.seed_band(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]))
    np.testing.assert_allclose(mean, [2.0, 0.0])
    assert (lo <= mean).all() and (hi >= mean).all() and hi[1] == 0.0


def test_slope_ci_matches_linregress():
    from scipy.stats import linregress, t as student_t
    rng = np.random.default_rng(5)
    x = np.repeat(np.arange(5.0), 4)
    y = 0.7 * x + rng.standard_normal(x.size)
    slope, lo, hi = metrics.slope_ci(x, y)
    ref = linregress(x, y)
    half = student_t.ppf(0.975, x.size - 2) * ref.stderr
    assert slope == pytest.approx(ref.slope) and lo == pytest.approx(ref.slope - half) and hi == pytest.approx(ref.slope + half)
    with pytest.raises(ValueError, match="constant"):
        metrics.slope_ci(np.ones(5), y[:5])
