"""rgnb.stats: interval coverage by simulation, p-values, Holm."""

import numpy as np
import pytest
from scipy import stats as sps

from rgnb import stats

# 3000 Bernoulli(0.95) trials: SE 0.004, so a method at 95 % lies above 0.93 with a margin of 5 SE.
TRIALS = 3000


def coverage(method, n, rng, dist="normal"):
    draws = rng.normal(1.0, 2.0, size=(TRIALS, n)) if dist == "normal" else rng.gamma(2.0, 0.5, size=(TRIALS, n))
    truth = 1.0
    hits = 0
    for k, x in enumerate(draws):
        iv = stats.interval(x, method, rng=np.random.default_rng(k)) if method != "student-t" else stats.mean_ci(x)
        hits += iv.low < truth < iv.high
    return hits / TRIALS


@pytest.mark.parametrize("n", [3, 10, 20])
def test_student_t_coverage_at_the_books_sample_sizes(n):
    assert coverage("student-t", n, np.random.default_rng(n)) >= 0.93


def test_bca_coverage_where_it_is_allowed():
    """BCa at n = 30 (the smallest size rgnb allows for a bootstrap) on normal data."""
    rng = np.random.default_rng(7)
    draws = rng.normal(1.0, 2.0, size=(800, 30))
    hits = [(lambda i: i.low < 1.0 < i.high)(stats.bca_ci(x, n_boot=2000, rng=np.random.default_rng(k)))
            for k, x in enumerate(draws)]
    # 800 trials: SE 0.008; measured 0.92-0.93 at n = 30 (0.89 at n = 10, hence the refusal below 30).
    assert np.mean(hits) >= 0.91


def test_normal_se_interval_covers():
    rng = np.random.default_rng(3)
    est = rng.normal(5.0, 0.2, size=TRIALS)
    hits = sum(stats.normal_ci(e, 0.2).low < 5.0 < stats.normal_ci(e, 0.2).high for e in est)
    assert hits / TRIALS >= 0.93


def test_bootstrap_refuses_fewer_than_ten_seeds():
    with pytest.raises(ValueError, match="at least 30"):
        stats.bca_ci(np.arange(29.0), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least 30"):
        stats.bootstrap_ci(np.arange(5.0))
    with pytest.raises(ValueError, match="Generator"):
        stats.bca_ci(np.arange(40.0), rng=0)


def test_bca_reduces_to_percentile_for_symmetric_data_and_matches_normal_theory():
    x = np.random.default_rng(1).normal(0.0, 1.0, size=400)
    iv = stats.bca_ci(x, n_boot=4000, rng=np.random.default_rng(2))
    assert iv.method == "bca" and iv.n == 400 and iv.estimate == pytest.approx(x.mean())
    assert (iv.high - iv.low) / 2 == pytest.approx(1.96 / 20, rel=0.1)


def test_student_interval_closed_form():
    x = np.array([1.0, 2.0, 4.0])
    iv = stats.mean_ci(x)
    half = sps.t.ppf(0.975, 2) * x.std(ddof=1) / np.sqrt(3)
    assert (iv.estimate, iv.low, iv.high) == pytest.approx((7 / 3, 7 / 3 - half, 7 / 3 + half), rel=1e-12)
    assert iv.method == "student-t" and iv.n == 3


def test_holm_on_known_p_values():
    # Holm: sorted p = .01, .02, .03, .04 times 4, 3, 2, 1 -> .04, .06, .06 (monotone), .06
    got = stats.holm([0.03, 0.01, 0.04, 0.02])
    assert got == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # step-down keeps the order monotone
    with pytest.raises(ValueError, match="p_values"):
        stats.holm([0.1, 1.5])


def test_formatting():
    assert stats.Interval(0.123456, 0.1, 0.15).format(2) == "0.12 [0.1, 0.15]"
    assert stats.Interval(3e-15, 1e-15, 5e-15).format(2, floor=1e-12) == "< 1e-12 [< 1e-12, < 1e-12]"
    assert stats.exact(0.5).format() == "0.5"


@pytest.mark.parametrize("bad", [[1.0], [[1.0, 2.0]], [], [1.0, float("nan")]])
def test_bad_samples_rejected(bad):
    with pytest.raises(ValueError, match="samples"):
        stats.mean_ci(bad)
