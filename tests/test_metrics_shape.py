"""Tests of rgnb.metrics.shape: Spearman with depth, the nonincreasing share, the collapse ratio."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from rgnb import metrics


def test_profile_shape_statistics():
    rng = np.random.default_rng(9)
    x = rng.standard_normal(10)
    y = x**3 + 0.1 * rng.standard_normal(10)
    assert metrics.spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, rel=1e-10)
    assert metrics.depth_spearman([5.0, 4.0, 3.0, 1.0]) == pytest.approx(-1.0)
    assert metrics.nonincreasing_share([5.0, 4.0, 4.5, 1.0]) == pytest.approx(2 / 3)
    assert metrics.collapse_ratio([4.0, 1.0, 2.0]) == pytest.approx(0.5)
    assert metrics.collapse_ratio([4.0, 1.0, 2.0], reduce="min") == pytest.approx(0.25)
    np.testing.assert_allclose(metrics.depth_spearman(np.array([[1.0, 2, 3], [3, 2, 1]])), [1.0, -1.0])


@pytest.mark.parametrize("rtol", [float("nan"), -0.1, float("inf"), 2.0])
def test_nonincreasing_share_refuses_bad_rtol(rtol):
    with pytest.raises(ValueError, match="rtol"):
        metrics.nonincreasing_share([3.0, 2.0, 1.0], rtol=rtol)


def test_nonincreasing_share_rtol():
    assert metrics.nonincreasing_share([1.0, 1.05, 1.0], rtol=0.1) == 1.0
    assert metrics.nonincreasing_share([1.0, 1.05, 1.0], rtol=0.0) == 0.5
