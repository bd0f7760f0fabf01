"""rgnb.stats: interval coverage checked by simulation."""

import numpy as np
import pytest

from rgnb import stats


def test_student_interval_has_its_nominal_coverage():
    rng = np.random.default_rng(0)
    draws = rng.normal(1.0, 2.0, size=(4000, 5))
    covered = [(iv.low < 1.0 < iv.high) for iv in map(stats.mean_ci, draws)]
    # 4000 Bernoulli(0.95) trials: standard error 0.0034; allow 4 of them.
    assert abs(np.mean(covered) - 0.95) < 4 * 0.0034


def test_bootstrap_matches_normal_theory_for_a_large_sample():
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, size=400)
    iv = stats.bootstrap_ci(x, n_boot=4000, seed=2)
    half = 1.96 / np.sqrt(400)
    assert iv.estimate == pytest.approx(x.mean())
    assert (iv.high - iv.low) / 2 == pytest.approx(half, rel=0.1)


def test_bootstrap_custom_statistic_is_vectorised():
    x = np.arange(10.0)
    iv = stats.bootstrap_ci(x, statistic=lambda a: np.median(a, axis=-1), n_boot=500)
    assert iv.estimate == np.median(x) and iv.low <= iv.estimate <= iv.high


@pytest.mark.parametrize("bad", [[1.0], [[1.0, 2.0]], []])
def test_too_few_seeds_rejected(bad):
    with pytest.raises(ValueError, match="samples"):
        stats.mean_ci(bad)


def test_format_uses_significant_digits():
    assert stats.Interval(0.123456, 0.1, 0.15).format(2) == "0.12 [0.1, 0.15]"
