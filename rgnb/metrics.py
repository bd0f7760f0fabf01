"""Representation metrics: effective rank, participation ratio, linear CKA, kernel drift.

Conventions. A *representation* is an array ``X`` of shape (..., N, d): N samples (rows) of d
features, batched over any leading axes. A *stream* is a residual stream ``h`` of shape
(..., N, T, d): N sequences, T positions, d channels (``rgnb.train.SweepResult.streams`` gives
(L+1, N, T, d), one stream per layer). Inputs may be numpy arrays or torch tensors; everything is
computed in float64 numpy and returned as numpy.

- Effective rank (Roy & Vetterli 2007): centre X over samples, singular values ``s``,
  ``p = s / sum s``, ``erank = exp(-sum p log p)``, in [1, min(N, d)].
- Participation ratio: ``(sum s^2)^2 / sum s^4`` (the effective number of principal components).
- Linear CKA (Kornblith et al. 2019): ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with
  ``Xc, Yc`` centred over samples; equal to CKA between the linear kernels ``X X^T`` and ``Y Y^T``
  (so the ``1/d`` of a layer kernel ``K = X X^T / d`` cancels).
- Streams are measured three ways (:data:`STREAM_MODES`): ``"position"`` (the measure of
  ``h[:, t, :]`` for each t, then averaged over t: controls for mean pooling), ``"pooled"`` (mean over
  positions first, then the measure of the (N, d) matrix), ``"stacked"`` (all (N T, d) rows at once).
- Kernel drift between consecutive layers of a stream: ``1 - CKA(K^l, K^{l+1})`` and the
  normalised Frobenius change ``||K^{l+1} - K^l||_F / ||K^l||_F``, both per position and then
  averaged over positions; its concentration (:func:`drift_concentration`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

from rgnb.stats import Interval, bootstrap_ci

STREAM_MODES = ("position", "pooled", "stacked")
MEASURES = ("erank", "pr")
_EPS = 1e-12


# --------------------------------------------------------------------------------------------- #
# Input handling
# --------------------------------------------------------------------------------------------- #
def _to_numpy(x: Any, name: str) -> np.ndarray:
    """numpy float64 view of an array or torch tensor (detached, on the CPU)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    try:
        out = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array or tensor, got {type(x).__name__}") from exc
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    return out


def _representation(X: Any, name: str = "X") -> np.ndarray:
    """Check a representation of shape (..., N, d) with N >= 2, d >= 1."""
    X = _to_numpy(X, name)
    if X.ndim < 2:
        raise ValueError(f"{name} must have shape (..., N, d) with at least 2 axes, got shape {X.shape}")
    if X.shape[-2] < 2:
        raise ValueError(f"{name} must have N >= 2 samples (axis -2), got N = {X.shape[-2]}")
    if X.shape[-1] < 1:
        raise ValueError(f"{name} must have d >= 1 features (axis -1), got d = {X.shape[-1]}")
    return X


def _stream(h: Any, name: str = "h") -> np.ndarray:
    """Check a stream of shape (..., N, T, d) with N >= 2."""
    h = _to_numpy(h, name)
    if h.ndim < 3:
        raise ValueError(f"{name} must have shape (..., N, T, d) with at least 3 axes, got shape {h.shape}")
    if h.shape[-3] < 2:
        raise ValueError(f"{name} must have N >= 2 sequences (axis -3), got N = {h.shape[-3]}")
    if h.shape[-2] < 1 or h.shape[-1] < 1:
        raise ValueError(f"{name} must have T >= 1 positions and d >= 1 channels, got shape {h.shape}")
    return h


def _tmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``a^T b`` over the last two axes, (..., N, p) x (..., N, q) -> (..., p, q), float64.

    Done by torch (its own BLAS): numpy's OpenBLAS threads and torch's OpenMP threads in the same
    process can slow a plain numpy matmul down by orders of magnitude on a small busy machine.
    """
    ta = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
    tb = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float64))
    return (ta.transpose(-1, -2) @ tb).numpy()


def _eigvalsh(g: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of symmetric matrices (..., k, k) via torch."""
    return torch.linalg.eigvalsh(torch.from_numpy(np.ascontiguousarray(g, dtype=np.float64))).numpy()


def _centre(X: np.ndarray) -> np.ndarray:
    return X - X.mean(axis=-2, keepdims=True)


# --------------------------------------------------------------------------------------------- #
# Spectral measures of a representation
# --------------------------------------------------------------------------------------------- #
def singular_values(X: Any, center: bool = True) -> np.ndarray:
    """Singular values of (centred) ``X`` (..., N, d) -> (..., min(N, d)), descending."""
    X = _representation(X)
    X = _centre(X) if center else X
    # Eigenvalues of the smaller Gram matrix (d x d or N x N): much faster than an SVD of a tall
    # matrix; the relative error of small singular values (~ sqrt(eps) s_max) is immaterial here.
    gram = _tmm(X, X) if X.shape[-2] >= X.shape[-1] else _tmm(np.swapaxes(X, -1, -2), np.swapaxes(X, -1, -2))
    ev = _eigvalsh(gram)[..., ::-1]
    # Eigenvalues below round-off of the largest are zero (s < 1e-6 s_max changes erank by < 1e-5).
    ev = np.where(ev > 1e-12 * ev[..., :1], ev, 0.0)
    return np.sqrt(ev)


def erank_from_singular(s: Any) -> np.ndarray:
    """Effective rank from singular values (..., k) -> (...); 0 for an all-zero spectrum."""
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
    """Roy-Vetterli effective rank of ``X`` (..., N, d) -> (...) (a float for a single matrix)."""
    out = erank_from_singular(singular_values(X, center))
    return float(out) if out.ndim == 0 else out


def participation_ratio(X: Any, center: bool = True) -> np.ndarray | float:
    """Participation ratio of the (centred) ``X`` (..., N, d) -> (...) (a float for one matrix)."""
    out = pr_from_singular(singular_values(X, center))
    return float(out) if out.ndim == 0 else out


def linear_cka(X: Any, Y: Any) -> np.ndarray | float:
    """Linear CKA between ``X`` (..., N, d1) and ``Y`` (..., N, d2) -> (...), in [0, 1].

    Computed from d x d Gram matrices of the centred features (never the N x N kernels).
    """
    X = _representation(X, "X")
    Y = _representation(Y, "Y")
    if X.shape[:-1] != Y.shape[:-1]:
        raise ValueError(f"X and Y must agree on all axes but the last, got {X.shape} and {Y.shape}")
    Xc, Yc = _centre(X), _centre(Y)
    xy, xx, yy = _tmm(Yc, Xc), _tmm(Xc, Xc), _tmm(Yc, Yc)
    num = (xy**2).sum((-1, -2))
    den = np.sqrt((xx**2).sum((-1, -2)) * (yy**2).sum((-1, -2)))
    out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------------------------- #
# Streams (..., N, T, d)
# --------------------------------------------------------------------------------------------- #
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


# --------------------------------------------------------------------------------------------- #
# Kernel drift between consecutive layers
# --------------------------------------------------------------------------------------------- #
def kernel_drift(h: Any) -> dict[str, np.ndarray]:
    """Drift profile of a layered stream ``h`` (..., L+1, N, T, d) -> two arrays (..., L).

    ``"cka"``: ``1 - CKA(K^l, K^{l+1})`` with ``K^l = h^l[:, t] h^l[:, t]^T / d`` (centred, as CKA
    centres), per position t, averaged over t. ``"frobenius"``: ``||K^{l+1} - K^l||_F / ||K^l||_F``
    of the raw (uncentred) kernels, per position, averaged over t. Both use d x d Gram matrices
    only (``||K||_F^2 = ||X^T X||_F^2 / d^2``, ``<K, K'>_F = ||X^T X'||_F^2 / d^2``).
    """
    h = _stream(h)
    if h.ndim < 4 or h.shape[-4] < 2:
        raise ValueError(f"h must have shape (..., L+1, N, T, d) with L+1 >= 2 layers, got shape {h.shape}")
    d = h.shape[-1]
    X = np.ascontiguousarray(np.swapaxes(h, -3, -2))   # (..., L+1, T, N, d); contiguous for BLAS
    a, b = X[..., :-1, :, :, :], X[..., 1:, :, :, :]
    cka = 1.0 - linear_cka(a, b)                   # (..., L, T)
    gram = lambda u, v: (_tmm(u, v) ** 2).sum((-1, -2)) / d**2  # noqa: E731
    kaa, kbb, kab = gram(a, a), gram(b, b), gram(a, b)
    diff = np.sqrt(np.clip(kaa + kbb - 2.0 * kab, 0.0, None))
    frob = diff / np.sqrt(np.where(kaa > 0, kaa, 1.0))
    return {"cka": np.asarray(cka).mean(-1), "frobenius": frob.mean(-1)}


@dataclasses.dataclass(frozen=True)
class Concentration:
    """Concentration of drift profiles (..., L): arrays of shape (...).

    ``top1`` / ``top2``: share of the total drift in the largest one / two transitions;
    ``effective``: participation ratio of the profile ``(sum D)^2 / sum D^2`` (the effective number
    of transitions, between 1 and L); ``argmax``: index l of the largest transition (l -> l+1).
    """

    top1: np.ndarray
    top2: np.ndarray
    effective: np.ndarray
    argmax: np.ndarray


def drift_concentration(profile: Any) -> Concentration:
    """Top-1 / top-2 shares, effective number of transitions and argmax of profiles (..., L)."""
    D = _to_numpy(profile, "profile")
    if D.ndim < 1 or D.shape[-1] < 1:
        raise ValueError(f"profile must have shape (..., L) with L >= 1, got shape {D.shape}")
    if (D < -1e-9).any():
        raise ValueError("profile must be nonnegative (drifts)")
    D = np.clip(D, 0.0, None)
    total = D.sum(-1)
    safe = np.where(total > 0, total, 1.0)
    srt = -np.sort(-D, axis=-1)
    top1 = srt[..., 0] / safe
    top2 = srt[..., :2].sum(-1) / safe
    sq = (D**2).sum(-1)
    eff = np.where(sq > 0, total**2 / np.where(sq > 0, sq, 1.0), 0.0)
    return Concentration(top1=top1, top2=top2, effective=eff, argmax=np.argmax(D, axis=-1))


def plateau_level(profile: Any, n_top: int = 2) -> np.ndarray:
    """Largest drift outside the ``n_top`` largest transitions, profiles (..., L) -> (...).

    0 where the profile has no more than ``n_top`` transitions.
    """
    D = _to_numpy(profile, "profile")
    if D.ndim < 1:
        raise ValueError(f"profile must have shape (..., L), got shape {D.shape}")
    if not isinstance(n_top, (int, np.integer)) or n_top < 0:
        raise ValueError(f"n_top must be an integer >= 0, got {n_top!r}")
    if D.shape[-1] <= n_top:
        return np.zeros(D.shape[:-1])
    return (-np.sort(-D, axis=-1))[..., n_top]


# --------------------------------------------------------------------------------------------- #
# Shape of a profile over layers
# --------------------------------------------------------------------------------------------- #
def spearman(x: Any, y: Any) -> np.ndarray | float:
    """Spearman rank correlation along the last axis, (..., n) x (..., n) -> (...); nan if constant."""
    x, y = _to_numpy(x, "x"), _to_numpy(y, "y")
    x, y = np.broadcast_arrays(x, y)
    if x.ndim < 1 or x.shape[-1] < 2:
        raise ValueError(f"x and y must have shape (..., n) with n >= 2, got {x.shape}")
    rx = rankdata(x, axis=-1)
    ry = rankdata(y, axis=-1)
    rx = rx - rx.mean(-1, keepdims=True)
    ry = ry - ry.mean(-1, keepdims=True)
    den = np.sqrt((rx**2).sum(-1) * (ry**2).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, (rx * ry).sum(-1) / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def depth_spearman(profile: Any) -> np.ndarray | float:
    """Spearman rho between layer index l and a profile (..., L+1) -> (...)."""
    p = _to_numpy(profile, "profile")
    if p.ndim < 1 or p.shape[-1] < 2:
        raise ValueError(f"profile must have shape (..., L+1) with at least 2 layers, got shape {p.shape}")
    return spearman(np.broadcast_to(np.arange(p.shape[-1], dtype=np.float64), p.shape), p)


def nonincreasing_share(profile: Any, rtol: float = 0.0) -> np.ndarray | float:
    """Share of consecutive steps with ``p[l+1] <= p[l] (1 + rtol)``, profiles (..., L+1) -> (...)."""
    p = _to_numpy(profile, "profile")
    if p.ndim < 1 or p.shape[-1] < 2:
        raise ValueError(f"profile must have shape (..., L+1) with at least 2 layers, got shape {p.shape}")
    if rtol < 0:
        raise ValueError(f"rtol must be >= 0, got {rtol}")
    out = (p[..., 1:] <= p[..., :-1] * (1.0 + rtol)).mean(-1)
    return float(out) if np.ndim(out) == 0 else out


def collapse_ratio(profile: Any, reduce: str = "last") -> np.ndarray | float:
    """``R = p[L] / p[0]`` (``reduce="last"``) or ``min_l p[l] / p[0]`` (``"min"``), (..., L+1) -> (...)."""
    p = _to_numpy(profile, "profile")
    if p.ndim < 1 or p.shape[-1] < 2:
        raise ValueError(f"profile must have shape (..., L+1) with at least 2 layers, got shape {p.shape}")
    if reduce not in ("last", "min"):
        raise ValueError(f"reduce must be 'last' or 'min', got {reduce!r}")
    top = p[..., -1] if reduce == "last" else p.min(-1)
    out = top / np.where(p[..., 0] != 0, p[..., 0], np.nan)
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------------------------- #
# Confidence intervals over seeds
# --------------------------------------------------------------------------------------------- #
def seed_ci(values: Any, seed: int = 0, n_boot: int = 4000) -> Interval:
    """Bootstrap 95% CI of the mean over seeds, values (n_seeds,) -> Interval (``rgnb.stats``).

    Non-finite values (e.g. a Spearman rho of a constant profile) are rejected.
    """
    v = _to_numpy(values, "values")
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"values must have shape (n_seeds,) with n_seeds >= 2, got shape {v.shape}")
    return bootstrap_ci(v, n_boot=n_boot, seed=seed)


def seed_band(values: Any, seed: int = 0, n_boot: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and bootstrap 95% band over seeds, values (n_seeds, K) -> three arrays (K,)."""
    v = _to_numpy(values, "values")
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"values must have shape (n_seeds, K) with n_seeds >= 2, got shape {v.shape}")
    cis = [bootstrap_ci(v[:, k], n_boot=n_boot, seed=seed) for k in range(v.shape[1])]
    return (np.array([c.estimate for c in cis]), np.array([c.low for c in cis]), np.array([c.high for c in cis]))
