"""Confidence intervals of the measures: means over seeds (Student t) and a least-squares slope."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rgnb.metrics.arrays import _to_numpy
from rgnb.stats import Interval, mean_ci
from rgnb.validate import check_float


def seed_ci(values: Any) -> Interval:
    """Mean over seeds with a Student-t 95% CI, values (n_seeds,) -> Interval (``rgnb.stats.mean_ci``).

    Non-finite values (e.g. a Spearman rho of a constant profile) are rejected.
    """
    v = _to_numpy(values, "values")
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"values must have shape (n_seeds,) with n_seeds >= 2, got shape {v.shape}")
    return mean_ci(v)


def seed_band(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t 95% band over seeds, values (n_seeds, K) -> three arrays (K,)."""
    v = _to_numpy(values, "values")
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"values must have shape (n_seeds, K) with n_seeds >= 2, got shape {v.shape}")
    cis = [mean_ci(v[:, k]) for k in range(v.shape[1])]
    return (np.array([c.estimate for c in cis]), np.array([c.low for c in cis]), np.array([c.high for c in cis]))


def slope_ci(x: Any, y: Any, level: float = 0.95) -> tuple[float, float, float]:
    """Least-squares slope of y on x with its Student-t CI (n - 2 degrees of freedom): (slope, low, high)."""
    from scipy import stats as _st
    x, y = _to_numpy(x, "x"), _to_numpy(y, "y")
    if x.ndim != 1 or x.shape != y.shape or x.size < 3:
        raise ValueError(f"x and y must be 1-D of the same length >= 3, got {x.shape} and {y.shape}")
    level = check_float("level", level, 0.0, 1.0, low_open=True, high_open=True)
    xc = x - x.mean()
    sxx = float((xc**2).sum())
    if sxx <= 0:
        raise ValueError("x must not be constant")
    slope = float((xc * (y - y.mean())).sum() / sxx)
    resid = y - y.mean() - slope * xc
    se = math.sqrt(float((resid**2).sum()) / (x.size - 2) / sxx)
    half = float(_st.t.ppf(0.5 + level / 2, x.size - 2)) * se
    return slope, slope - half, slope + half
