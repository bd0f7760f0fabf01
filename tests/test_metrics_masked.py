"""Tests of rgnb.metrics.masked: protocol v2, masked rows per position and their dimension."""

import numpy as np
import pytest

from rgnb import metrics


def test_masked_rows_selects_exactly_the_masked_rows_of_a_position():
    h = np.arange(2 * 5 * 3 * 2, dtype=float).reshape(2, 5, 3, 2)  # (L+1, N, T, d)
    mask = np.zeros((5, 3), dtype=bool)
    mask[[0, 3], 1] = True
    mask[4, 2] = True
    rows = metrics.masked_rows(h, mask, 1)
    assert rows.shape == (2, 2, 2)
    np.testing.assert_array_equal(rows, h[:, [0, 3], 1, :])
    np.testing.assert_array_equal(metrics.masked_rows(h, mask, 2), h[:, [4], 2, :])
    with pytest.raises(ValueError, match="mask"):
        metrics.masked_rows(h, mask.astype(int), 1)
    with pytest.raises(ValueError, match="t must"):
        metrics.masked_rows(h, mask, 3)


def test_masked_dimension_profile_ignores_visible_rows_and_constant_layers():
    rng = np.random.default_rng(3)
    N, T, d = 200, 4, 6
    h = np.zeros((3, N, T, d))
    mask = np.zeros((N, T), dtype=bool)
    mask[:, 1] = True
    # layer 0: identical rows (as h^0 on masked rows); layer 1: 2-D spread; layer 2: 5-D spread
    h[1, :, :, :2] = rng.standard_normal((N, T, 2))
    h[2, :, :, :5] = rng.standard_normal((N, T, 5))
    h[:, :, 3, :] = 100 * rng.standard_normal((3, N, d))  # visible rows: huge full-rank noise, must be ignored
    prof = metrics.masked_dimension_profile(h, mask)
    assert prof["erank_raw"][0] == 0.0 and prof["pc90_raw"][0] == 0.0
    assert 1.9 < prof["erank_raw"][1] <= 2.0 and prof["pc90_raw"][1] == 2.0
    assert 4.7 < prof["erank_raw"][2] <= 5.0 and prof["pr_raw"][2] > 4.5 and prof["pc90_raw"][2] == 5.0
    assert prof["erank_ln"][2] < 5.0 + 1e-9  # LN(X) cannot add a direction beyond the span of X and 1
    drift = metrics.masked_drift_profile(h, mask)
    assert drift.shape == (2,) and np.all((drift >= 0) & (drift <= 1))
