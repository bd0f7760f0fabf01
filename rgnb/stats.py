"""Confidence intervals over seeds (bootstrap and Student t), shared by every chapter."""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy import stats as _stats


class Interval(NamedTuple):
    """A point estimate with a two-sided confidence interval at ``level``."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def format(self, digits: int = 2) -> str:
        """``estimate [low, high]`` with ``digits`` significant digits (stable for notebook checks)."""
        def g(x: float) -> str:
            return f"{x:.{digits}g}" if np.isfinite(x) else str(x)
        return f"{g(self.estimate)} [{g(self.low)}, {g(self.high)}]"


def _as_samples(samples: np.ndarray | list[float], name: str = "samples") -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"{name} must be a 1-D array of at least 2 values (one per seed), got shape {x.shape}")
    return x


def mean_ci(samples: np.ndarray | list[float], level: float = 0.95) -> Interval:
    """Mean of per-seed values with a Student-t interval, shape (n_seeds,) -> Interval."""
    x = _as_samples(samples)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    m = float(x.mean())
    half = float(_stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return Interval(m, m - half, m + half, level)


def bootstrap_ci(samples: np.ndarray | list[float], statistic: Callable[[np.ndarray], np.ndarray] | None = None,
                 n_boot: int = 4000, level: float = 0.95, seed: int = 0) -> Interval:
    """Percentile bootstrap over seeds: resample the (n_seeds,) values with replacement.

    ``statistic`` maps an array of shape (n_boot, n_seeds) to (n_boot,) (default: mean over axis 1);
    it is vectorised over resamples, so no Python loop runs per resample.
    """
    x = _as_samples(samples)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100, got {n_boot}")
    stat = statistic if statistic is not None else (lambda a: a.mean(axis=-1))
    rng = np.random.default_rng(seed)
    resamples = x[rng.integers(0, x.size, size=(n_boot, x.size))]
    boot = np.asarray(stat(resamples), dtype=np.float64)
    estimate = float(np.asarray(stat(x[None, :]))[0])
    low, high = np.quantile(boot, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(estimate, float(low), float(high), level)
