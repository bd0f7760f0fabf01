"""Effects: a claim's statistic contrasted with a null, with an interval and one-sided p-values.

An :class:`Effect` is what a v3 verdict (``shared/spec/verdicts.md``) is computed from. Three kinds:

- ``sign-flip``: per-unit paired differences ``d`` (n,) (trained minus null, same seed, same
  probes; :func:`paired`). Under "the effect is ``delta``" the signs of ``d - delta`` are
  exchangeable, so the exact randomisation test of ``delta`` enumerates all ``2^n`` sign flips
  (n <= :data:`EXACT_MAX_N`; beyond, :data:`MC_FLIPS` flips from a fixed seed). With the mean as
  statistic, a flip of the subset F exceeds the observed statistic exactly when the mean of d over F
  is at most ``delta``, so the p-values are counts among the ``2^n - 1`` subset means and the
  interval (the ``delta`` not rejected) has subset means as its ends: no root finding.
- ``normal-se``: a Monte Carlo estimate with its standard error (the EFT chapter).
- ``exact``: a number computed without sampling error.

The scale is part of the contrast: ``"difference"`` (a - b) or ``"log-ratio"`` (log a - log b, for a
positive ratio whose interval must stay positive once exponentiated).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats as _stats

from rgnb.stats import Interval
from rgnb.validate import check_choice, check_finite_array, check_float, check_int

KINDS = ("sign-flip", "normal-se", "exact")
SCALES = ("difference", "log-ratio")
#: Largest n whose 2^n sign flips are enumerated exactly.
EXACT_MAX_N = 16
#: Random sign flips (fixed seed) used above EXACT_MAX_N.
MC_FLIPS = 1 << 16
_FLIP_SEED = 20260602


def _flip_design(n: int) -> np.ndarray:
    """Subsets F as 0/1 rows, (m, n): all non-empty subsets for n <= EXACT_MAX_N, else MC_FLIPS - 1 random ones."""
    if n <= EXACT_MAX_N:
        return np.array(list(itertools.product((0.0, 1.0), repeat=n))[1:], dtype=np.float64)
    rows = np.random.default_rng(_FLIP_SEED).integers(0, 2, size=(MC_FLIPS - 1, n)).astype(np.float64)
    rows[rows.sum(axis=1) == 0, 0] = 1.0
    return rows


@dataclasses.dataclass(frozen=True)
class Effect:
    """A contrast with its sampling law: ``estimate`` and either ``samples`` (sign-flip) or ``se`` (normal-se).

    ``scale`` says what the numbers are (``difference`` or ``log-ratio``); ``n`` is the number of
    seeds (sign-flip) or of networks behind the estimate (normal-se; 0 if not counted).
    """

    estimate: float
    kind: str
    n: int = 0
    samples: tuple[float, ...] = ()
    se: float = 0.0
    scale: str = "difference"

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        check_choice("scale", self.scale, SCALES)
        if self.kind == "sign-flip" and len(self.samples) < 2:
            raise ValueError(f"a sign-flip effect needs >= 2 paired differences, got {len(self.samples)}")
        object.__setattr__(self, "estimate", check_float("estimate", self.estimate))
        object.__setattr__(self, "n", check_int("n", self.n, 0))
        object.__setattr__(self, "se", check_float("se", self.se, 0.0))
        if self.samples:
            samples = check_finite_array("samples", self.samples, ndim=1)
            object.__setattr__(self, "samples", tuple(float(x) for x in samples))

    # ------------------------------------------------------------------ sign-flip internals
    @cached_property
    def _subset_means(self) -> np.ndarray:
        d = np.asarray(self.samples, dtype=np.float64)
        design = _flip_design(d.size)
        return np.sort(design @ d / design.sum(axis=1))

    @property
    def _n_flips(self) -> int:
        return self._subset_means.size + 1

    # ------------------------------------------------------------------ public
    def p_above(self, delta: float) -> float:
        """One-sided p-value of "the effect is above ``delta``" (H0: effect <= delta)."""
        delta = check_float("delta", delta)
        if self.kind == "exact":
            return 0.0 if self.estimate > delta else 1.0
        if self.kind == "normal-se":
            if self.se <= 0:
                return 0.0 if self.estimate > delta else 1.0
            return float(_stats.norm.sf((self.estimate - delta) / self.se))
        M = self._subset_means
        return float((1 + np.searchsorted(M, delta, side="right")) / self._n_flips)

    def p_below(self, delta: float) -> float:
        """One-sided p-value of "the effect is below ``delta``" (H0: effect >= delta)."""
        delta = check_float("delta", delta)
        if self.kind == "exact":
            return 0.0 if self.estimate < delta else 1.0
        if self.kind == "normal-se":
            if self.se <= 0:
                return 0.0 if self.estimate < delta else 1.0
            return float(_stats.norm.cdf((self.estimate - delta) / self.se))
        M = self._subset_means
        return float((1 + M.size - np.searchsorted(M, delta, side="left")) / self._n_flips)

    def interval(self, level: float = 0.95) -> Interval:
        """Two-sided interval at ``level``: the inverted test (sign-flip), estimate +- z se, or the exact value.

        A sign-flip interval over too few seeds to reject anything at ``level`` is infinite.
        """
        level = check_float("level", level, 0.0, 1.0, low_open=True, high_open=True)
        if self.kind == "exact":
            return Interval(self.estimate, self.estimate, self.estimate, level, "exact", self.n)
        if self.kind == "normal-se":
            half = float(_stats.norm.ppf(0.5 + level / 2)) * self.se
            return Interval(self.estimate, self.estimate - half, self.estimate + half, level, "normal-se", self.n)
        M = self._subset_means
        j = int(math.floor((1 - level) / 2 * self._n_flips + 1e-9))
        low, high = (float(M[j - 1]), float(M[M.size - j])) if j >= 1 else (-math.inf, math.inf)
        return Interval(self.estimate, low, high, level, "sign-flip", self.n)

    def shifted(self, offset: float) -> "Effect":
        """The same effect minus ``offset`` (e.g. a residual minus its noise floor)."""
        return dataclasses.replace(self, estimate=self.estimate - offset,
                                   samples=tuple(x - offset for x in self.samples))

    def to_json(self, digits: int = 4) -> dict[str, Any]:
        iv = self.interval()
        r = lambda x: float(f"{x:.{digits}g}") if math.isfinite(x) else x  # noqa: E731
        return {"estimate": r(iv.estimate), "low": r(iv.low), "high": r(iv.high), "method": self.kind,
                "n": self.n, "scale": self.scale}


def from_differences(differences: Any, scale: str = "difference") -> Effect:
    """A sign-flip effect from per-seed paired differences, (n,) -> Effect (the mean)."""
    d = check_finite_array("differences", differences, ndim=1)
    if d.size < 2:
        raise ValueError(f"differences must hold >= 2 paired values (one per seed), got {d.size}")
    return Effect(float(d.mean()), "sign-flip", int(d.size), tuple(float(x) for x in d), scale=scale)


def paired(trained: Any, null: Any, scale: str = "difference") -> Effect:
    """The paired contrast of per-seed statistics ``trained`` - ``null``, both (n,) with seed i in place i.

    ``scale="log-ratio"`` contrasts logarithms (both must be positive).
    """
    check_choice("scale", scale, SCALES)
    a = check_finite_array("trained", trained, ndim=1)
    b = check_finite_array("null", null, ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"trained and null must be paired by seed (same shape), got {a.shape} and {b.shape}")
    if scale == "log-ratio":
        if np.any(a <= 0) or np.any(b <= 0):
            raise ValueError("a log-ratio contrast needs positive statistics")
        return from_differences(np.log(a) - np.log(b), scale)
    return from_differences(a - b, scale)


def normal(estimate: float, se: float, n: int = 0, scale: str = "difference") -> Effect:
    """A Monte Carlo effect with standard error ``se`` (normal-se)."""
    estimate = check_float("estimate", estimate)
    se = check_float("se", se, 0.0)
    return Effect(estimate, "normal-se", int(n), se=se, scale=scale)


def exact(value: float, n: int = 0) -> Effect:
    """A number computed exactly (no sampling error)."""
    return Effect(check_float("value", value), "exact", int(n))


def difference(a: Effect, b: Effect) -> Effect:
    """``a - b`` of two normal-se effects with independent errors (se added in quadrature)."""
    for name, e in (("a", a), ("b", b)):
        if e.kind not in ("normal-se", "exact"):
            raise ValueError(f"{name} must be a normal-se or exact effect, got {e.kind!r}")
    return normal(a.estimate - b.estimate, math.hypot(a.se, b.se), max(a.n, b.n), a.scale)


def union_max(contrasts: dict[str, Effect], alpha: float = 0.025) -> tuple[str, Effect]:
    """"Some contrast is large", selection-aware: of k normal-se (or exact) contrasts, the one whose
    simultaneous lower bound estimate - z_k se (Bonferroni, z_k = z_{1 - alpha / k}) is largest, returned as
    a normal effect with se inflated by z_k / z_{1 - alpha}. Its 95 % interval is the simultaneous one, so
    "its interval lies beyond the margin" is the Bonferroni union test over the k contrasts (a maximum over t
    or configurations read without selection bias). Returns (name, effect)."""
    if not contrasts:
        raise ValueError("contrasts must hold at least one effect")
    alpha = check_float("alpha", alpha, 0.0, 0.5, low_open=True, high_open=True)
    for name, e in contrasts.items():
        if e.kind not in ("normal-se", "exact"):
            raise ValueError(f"contrast {name!r} must be a normal-se or exact effect, got {e.kind!r}")
    k = len(contrasts)
    z_k, z_1 = float(_stats.norm.isf(alpha / k)), float(_stats.norm.isf(alpha))
    name = max(contrasts, key=lambda c: contrasts[c].estimate - z_k * contrasts[c].se)
    e = contrasts[name]
    return name, normal(e.estimate, e.se * z_k / z_1, e.n, e.scale)
