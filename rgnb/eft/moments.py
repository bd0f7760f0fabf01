"""Comparing closures with Monte Carlo: residuals (relative and in standard errors), the
extrapolations eps -> 0 and 1/n -> 0, and the validity window t*(n, tau).

Conventions: a Monte Carlo quantity comes as (estimate, standard error) arrays of the same shape;
the extrapolations are weighted least-squares fits of a straight line in x (eps or 1/n), element by
element, and return the intercept with its standard error (and the fit's chi^2 per degree of freedom).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rgnb.eft.kernels import pack
from rgnb.eft.sampler import KernelMoments
from rgnb.validate import check_finite_array, check_float

__all__ = ["Extrapolation", "extrapolate_to_zero", "relative_residual", "residual_in_se", "measured_k1",
           "validity_window", "window_bounds"]


@dataclasses.dataclass(frozen=True)
class Extrapolation:
    """A straight-line fit y = a + b x at x -> 0: ``value`` = a, ``se`` its standard error, ``slope`` = b,
    ``chi2`` the reduced chi^2 of the fit (NaN with two points); all element-wise, shape of one y."""

    value: np.ndarray
    se: np.ndarray
    slope: np.ndarray
    chi2: np.ndarray


def extrapolate_to_zero(x, y, se) -> Extrapolation:
    """Weighted least-squares line through (x_i, y_i +- se_i), evaluated at x = 0.

    x (m,) distinct, m >= 2; y and se (m, ...). Where every se of an element is 0 (an exact value,
    e.g. K1 at t = 0) the fit is unweighted and its standard error is 0."""
    x = check_finite_array("x", x, ndim=1)
    y = check_finite_array("y", y)
    se = check_finite_array("se", se, low=0.0)
    if x.size < 2 or len(np.unique(x)) != x.size:
        raise ValueError(f"x must hold at least 2 distinct values, got {x!r}")
    if y.shape != se.shape or y.shape[0] != x.size:
        raise ValueError(f"y and se must have shape ({x.size}, ...), got {y.shape} and {se.shape}")
    shape = (-1,) + (1,) * (y.ndim - 1)
    xx = x.reshape(shape)
    exact = np.all(se == 0, axis=0)
    w = np.where(exact[None], 1.0, 1.0 / np.where(se > 0, se, np.inf) ** 2)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0) if not exact.all() else w
    S0, S1, S2 = w.sum(0), (w * xx).sum(0), (w * xx ** 2).sum(0)
    Sy, Sxy = (w * y).sum(0), (w * xx * y).sum(0)
    det = S0 * S2 - S1 ** 2
    a = (S2 * Sy - S1 * Sxy) / det
    b = (S0 * Sxy - S1 * Sy) / det
    var_a = np.where(exact, 0.0, S2 / det)
    resid = y - (a[None] + b[None] * xx)
    dof = x.size - 2
    chi2 = (w * resid ** 2).sum(0) / dof if dof > 0 else np.full(a.shape, np.nan)
    return Extrapolation(a, np.sqrt(np.maximum(var_a, 0.0)), b, np.where(exact, np.nan, chi2))


def relative_residual(estimate: np.ndarray, reference: np.ndarray, se: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Frobenius relative deviation ||estimate - reference|| / ||reference|| per leading index and its
    standard error (delta method from entry-wise ``se``; where the deviation is within noise its
    floor is ||se|| / (sqrt(size) ||ref||)). Inputs (nt, ...), outputs (nt,)."""
    d = (estimate - reference).reshape(len(reference), -1)
    ref = np.linalg.norm(reference.reshape(len(reference), -1), axis=1)
    ref = np.where(ref > 0, ref, np.nan)
    nd = np.linalg.norm(d, axis=1)
    r = nd / ref
    if se is None:
        return r, np.zeros_like(r)
    s = se.reshape(len(reference), -1)
    r_se = np.sqrt(np.sum((d * s) ** 2, axis=1)) / np.where(nd > 0, nd, np.inf) / ref
    r_se = np.maximum(r_se, np.linalg.norm(s, axis=1) / ref / np.sqrt(s.shape[1]))
    return r, r_se


def residual_in_se(estimate: np.ndarray, reference: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Root-mean-square z-score of the deviation per leading index: sqrt(mean((est - ref)^2 / se^2)),
    entries with se = 0 skipped; (nt,). About 1 when the reference is right within noise."""
    d = ((estimate - reference) / np.where(se > 0, se, np.nan)).reshape(len(reference), -1)
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.nanmean(d ** 2, axis=1))


def measured_k1(mom: KernelMoments, K0_disc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """n (E[C^l] - K0_disc^l) and its standard error, packed (L+1, p); E[C] = E[G] exactly, and C has
    lower variance. Subtracting the infinite-width limit of the *same* L-layer network removes the
    O(eps) depth-discretisation error, which n times would swamp the 1/n effect."""
    m, se = mom.mean("C")
    return mom.width * (m - pack(K0_disc)), mom.width * se


def validity_window(t, residual, tau: float = 0.1) -> float:
    """t*(tau): the largest grid t such that the residual stays <= tau on the whole grid [0, t]
    (0 if it already exceeds tau at the first grid point; NaN residuals, where the reference vanishes,
    are skipped)."""
    tau = check_float("tau", tau, 0.0, 1e6, low_open=True)
    t = np.asarray(t, dtype=np.float64)
    r = np.asarray(residual, dtype=np.float64)
    ok = (r <= tau) | ~np.isfinite(r)
    bad = np.nonzero(~ok)[0]
    if bad.size == 0:
        return float(t[-1])
    return float(t[bad[0] - 1]) if bad[0] > 0 else 0.0


def window_bounds(t, residual, se, tau: float = 0.1, z: float = 1.96) -> tuple[float, float, float]:
    """t* and a noise band (t*_low, t*_high): the windows of residual + z se and residual - z se."""
    r, s = np.asarray(residual, dtype=np.float64), np.asarray(se, dtype=np.float64)
    return (validity_window(t, r, tau), validity_window(t, r + z * s, tau),
            validity_window(t, np.maximum(r - z * s, 0.0), tau))
