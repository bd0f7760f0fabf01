"""Block-sum RG for i.i.d. exponential-family variables (Gamma, scaled Poisson, Gaussian), b^{-1/2} rescaling.

Standardised cumulants ``kappa_m / kappa_2^{m/2}`` scale as ``b^{1 - m/2}``; the flow ends at the Gaussian.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special as _special

from rgnb.rg.config import FAMILIES_IID
from rgnb.rg.estimators import Fit, jackknife_additive, scalar_or_array
from rgnb.validate import check_choice, check_float, check_int, check_seed


def block_sum_map(family: str, params: tuple, b: int = 2) -> tuple:
    """Parameters of ``(X_1 + ... + X_b) / sqrt(b)`` for i.i.d. ``X_i`` of a family, exact.

    - ``"gamma"`` ``(shape, scale)`` -> ``(b shape, scale / sqrt b)``
    - ``"poisson"`` ``(lam, a)`` (the law of ``a N``, ``N ~ Poisson(lam)``) -> ``(b lam, a / sqrt b)``
    - ``"normal"`` ``(mu, var)`` -> ``(sqrt(b) mu, var)``
    """
    b = check_int("b", b, 2, 2 ** 20)
    if family == "gamma":
        k = check_float("shape", params[0], 0.0, low_open=True)
        s = check_float("scale", params[1], 0.0, low_open=True)
        return scalar_or_array(b * k), scalar_or_array(s / math.sqrt(b))
    if family == "poisson":
        lam = check_float("lam", params[0], 0.0, low_open=True)
        a = check_float("a", params[1], 0.0, low_open=True)
        return scalar_or_array(b * lam), scalar_or_array(a / math.sqrt(b))
    if family == "normal":
        mu = check_float("mu", params[0])
        var = check_float("var", params[1], 0.0, low_open=True)
        return scalar_or_array(math.sqrt(b) * mu), scalar_or_array(var)
    check_choice("family", family, FAMILIES_IID)
    raise AssertionError("unreachable")


def standardised_cumulant(family: str, params: tuple, m: int):
    """``kappa_m / kappa_2^{m/2}`` of a family member, for ``m >= 3``."""
    m = check_int("m", m, 3, 64)
    if family == "gamma":
        k = check_float("shape", params[0], 0.0, low_open=True)
        return scalar_or_array(math.factorial(m - 1) * k ** (1 - m / 2))
    if family == "poisson":
        lam = check_float("lam", params[0], 0.0, low_open=True)
        return scalar_or_array(lam ** (1 - m / 2))
    if family == "normal":
        return 0.0
    check_choice("family", family, FAMILIES_IID)
    raise AssertionError("unreachable")


def block_sum_flow(family: str, params: tuple, n_steps: int = 10) -> np.ndarray:
    """Trajectory of :func:`block_sum_map` (b = 2): array ``(n_steps + 1, 2)``."""
    n_steps = check_int("n_steps", n_steps, 0)
    out = [tuple(float(p) for p in params)]
    block_sum_map(family, out[0])  # validates
    for _ in range(n_steps):
        out.append(tuple(float(p) for p in block_sum_map(family, out[-1])))
    return np.array(out)


def sample_iid(family: str, params: tuple, n: int, seed: int = 0) -> np.ndarray:
    """``n`` i.i.d. draws (float64) of a family member (see :func:`block_sum_map` for parameters)."""
    n = check_int("n", n, 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    block_sum_map(family, params)  # validates
    if family == "gamma":
        return rng.gamma(params[0], params[1], size=n)
    if family == "poisson":
        return params[1] * rng.poisson(params[0], size=n).astype(np.float64)
    return params[0] + math.sqrt(params[1]) * rng.standard_normal(n)


def block_sum(x: np.ndarray, b: int = 2) -> np.ndarray:
    """One block-sum step on the last axis: ``(..., n) -> (..., n // b)``, sums of b rescaled by b^{-1/2}."""
    b = check_int("b", b, 2, 2 ** 20)
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1] // b * b
    return x[..., :n].reshape(*x.shape[:-1], -1, b).sum(-1) / math.sqrt(b)


def _iid_stats(x: np.ndarray, family: str, a: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        lx = np.log(x) if family == "gamma" else np.zeros_like(x)
    return np.stack([np.full(x.shape[0], x.shape[1], dtype=np.float64), x.sum(1), (x ** 2).sum(1),
                     (x ** 3).sum(1), (x ** 4).sum(1), lx.sum(1)], axis=1)


def _gamma_shape(s: np.ndarray) -> np.ndarray:
    """Solve ``ln k - digamma(k) = s`` (ML shape of a Gamma law), vectorised Newton."""
    k = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    for _ in range(30):
        f = np.log(k) - _special.digamma(k) - s
        k = np.clip(k - f / (1 / k - _special.polygamma(1, k)), 1e-8, None)
    return k


def _iid_from_stats(st: np.ndarray, family: str, a: float) -> dict:
    n, s1, s2, s3, s4, sl = st.T
    m1 = s1 / n
    c2 = s2 / n - m1 ** 2
    c3 = s3 / n - 3 * m1 * s2 / n + 2 * m1 ** 3
    m4 = s4 / n - 4 * m1 * s3 / n + 6 * m1 ** 2 * s2 / n - 3 * m1 ** 4
    out = {"mean": m1, "var": c2, "skew": c3 / c2 ** 1.5, "exkurt": m4 / c2 ** 2 - 3}
    if family == "gamma":
        k = _gamma_shape(np.log(m1) - sl / n)
        out.update(shape=k, scale=m1 / k)
    elif family == "poisson":
        out.update(lam=m1 / a)
    return out


def fit_iid(x: np.ndarray, family: str, a: float = 1.0, n_groups: int = 32) -> Fit:
    """Estimate a family's parameters and the standardised skewness / excess kurtosis from i.i.d. draws.

    Gamma: ML ``(shape, scale)``; scaled Poisson with known spacing ``a``: ML ``lam = mean / a``; all:
    ``mean``, ``var``, ``skew``, ``exkurt``. Standard errors by a delete-one-group jackknife over
    ``n_groups`` contiguous groups.
    """
    check_choice("family", family, FAMILIES_IID)
    x = np.asarray(x, dtype=np.float64).ravel()
    n_groups = check_int("n_groups", n_groups, 2)
    if x.size < 2 * n_groups:
        raise ValueError(f"x needs at least 2 * n_groups = {2 * n_groups} draws, got {x.size}")
    if family == "gamma" and not np.all(x > 0):
        raise ValueError("gamma draws must all be > 0")
    g = x[: x.size // n_groups * n_groups].reshape(n_groups, -1)
    units = _iid_stats(g, family, a)
    return jackknife_additive(units.sum(0), units, lambda st: _iid_from_stats(st, family, a))
