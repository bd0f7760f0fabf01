"""Spectral measures of dimension: singular values, effective rank, participation ratio, PCs for a variance share.

- Effective rank (Roy & Vetterli 2007): centre X over samples, singular values ``s``,
  ``p = s / sum s``, ``erank = exp(-sum p log p)``, in [1, min(N, d)].
- Participation ratio: ``(sum s^2)^2 / sum s^4`` (the effective number of principal components).
- Streams are measured three ways (:data:`STREAM_MODES`): ``"position"`` (the measure of
  ``h[:, t, :]`` for each t, then averaged over t: controls for mean pooling), ``"pooled"`` (mean over
  positions first, then the measure of the (N, d) matrix), ``"stacked"`` (all (N T, d) rows at once).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rgnb.metrics.arrays import _centre, _representation, _stream, _to_numpy
from rgnb.validate import check_float


STREAM_MODES = ("position", "pooled", "stacked")
MEASURES = ("erank", "pr")


def singular_values(X: Any, center: bool = True) -> np.ndarray:
    """Singular values of (centred) ``X`` (..., N, d) -> (..., min(N, d)), descending, float64.

    By an SVD (torch, LAPACK): absolute error ~1e-16 s_max, so no value is cut off. (A Gram-matrix
    eigenvalue route puts round-off of ~1e-8 s_max on every small or zero singular value.)"""
    X = _representation(X)
    X = _centre(X) if center else X
    return torch.linalg.svdvals(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))).numpy()


def erank_from_singular(s: Any) -> np.ndarray:
    """Roy-Vetterli effective rank exp(-sum p log p), p = s / sum s, from singular values (..., k) -> (...);
    every value counts (no cut-off), 0 log 0 = 0 exactly; 0 for an all-zero spectrum."""
    s = np.abs(_to_numpy(s, "s"))
    if s.ndim < 1 or s.shape[-1] < 1:
        raise ValueError(f"s must have shape (..., k) with k >= 1, got shape {s.shape}")
    total = s.sum(-1, keepdims=True)
    p = s / np.where(total > 0, total, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(-1)
    return np.where(total[..., 0] > 0, np.exp(ent), 0.0)


def pr_from_singular(s: Any) -> np.ndarray:
    """Participation ratio ``(sum s^2)^2 / sum s^4`` from singular values (..., k) -> (...)."""
    s = _to_numpy(s, "s")
    if s.ndim < 1 or s.shape[-1] < 1:
        raise ValueError(f"s must have shape (..., k) with k >= 1, got shape {s.shape}")
    s2 = s**2
    num = s2.sum(-1) ** 2
    den = (s2**2).sum(-1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def effective_rank(X: Any, center: bool = True) -> np.ndarray | float:
    """Roy-Vetterli effective rank of the (centred) ``X`` (..., N, d) -> (...) (a float for a single matrix):
    :func:`erank_from_singular` of :func:`singular_values`, no singular value cut off."""
    out = erank_from_singular(singular_values(X, center))
    return float(out) if out.ndim == 0 else out


def participation_ratio(X: Any, center: bool = True) -> np.ndarray | float:
    """Participation ratio of the (centred) ``X`` (..., N, d) -> (...) (a float for one matrix)."""
    out = pr_from_singular(singular_values(X, center))
    return float(out) if out.ndim == 0 else out


def _stream_matrices(h: np.ndarray, mode: str) -> np.ndarray:
    """The (N, d)-type matrices a mode measures: position (..., T, N, d); pooled (..., N, d);
    stacked (..., N T, d)."""
    # Contiguous copies: numpy's matmul falls back to a slow non-BLAS loop on strided views.
    if mode == "position":
        return np.ascontiguousarray(np.swapaxes(h, -3, -2))
    if mode == "pooled":
        return h.mean(axis=-2)
    if mode == "stacked":
        return h.reshape(*h.shape[:-3], h.shape[-3] * h.shape[-2], h.shape[-1])
    raise ValueError(f"mode must be one of {STREAM_MODES}, got {mode!r}")


def stream_spectrum_measure(h: Any, mode: str = "position", measure: str = "erank") -> np.ndarray:
    """Effective rank (``measure="erank"``) or participation ratio (``"pr"``) of a stream.

    ``h`` (..., N, T, d) -> (...): per position then averaged over T, pooled, or stacked (see
    :data:`STREAM_MODES`). For ``SweepResult.streams`` (L+1, N, T, d) this is the profile over layers.
    """
    h = _stream(h)
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    s = singular_values(_stream_matrices(h, mode))
    values = erank_from_singular(s) if measure == "erank" else pr_from_singular(s)
    return values.mean(axis=-1) if mode == "position" else values


def stream_erank(h: Any, mode: str = "position") -> np.ndarray:
    """Effective rank of a stream (..., N, T, d) -> (...); see :func:`stream_spectrum_measure`."""
    return stream_spectrum_measure(h, mode, "erank")


def stream_pr(h: Any, mode: str = "position") -> np.ndarray:
    """Participation ratio of a stream (..., N, T, d) -> (...); see :func:`stream_spectrum_measure`."""
    return stream_spectrum_measure(h, mode, "pr")


def pcs_for_variance(s: Any, fraction: float = 0.9) -> np.ndarray:
    """Number of principal components holding ``fraction`` of the variance, singular values (..., k) -> (...).

    The smallest ``k`` with ``sum_{i<=k} s_i^2 >= fraction * sum s^2`` (``s`` descending); 0 for a zero spectrum.
    """
    fraction = check_float("fraction", fraction, 0.0, 1.0, low_open=True)
    s = np.abs(_to_numpy(s, "s"))
    if s.ndim < 1 or s.shape[-1] < 1:
        raise ValueError(f"s must have shape (..., k) with k >= 1, got shape {s.shape}")
    v = -np.sort(-s**2, axis=-1)
    total = v.sum(-1, keepdims=True)
    cum = np.cumsum(v, -1) / np.where(total > 0, total, 1.0)
    # a relative slack of 1e-9 so that round-off never decides a tie at exactly ``fraction``
    k = (cum < fraction - 1e-9).sum(-1) + 1
    return np.where(total[..., 0] > 0, k, 0).astype(np.float64)
