"""Linear CKA, kernel drift between consecutive layers of a stream, and how concentrated the drift is.

- Linear CKA (Kornblith et al. 2019): ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with
  ``Xc, Yc`` centred over samples; equal to CKA between the linear kernels ``X X^T`` and ``Y Y^T``
  (so the ``1/d`` of a layer kernel ``K = X X^T / d`` cancels).
- Kernel drift between consecutive layers of a stream: ``1 - CKA(K^l, K^{l+1})`` and the
  normalised Frobenius change ``||K^{l+1} - K^l||_F / ||K^l||_F``, both per position and then
  averaged over positions; its concentration (:func:`drift_concentration`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rgnb.metrics.arrays import _centre, _representation, _stream, _tmm, _to_numpy


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
