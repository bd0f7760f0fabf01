"""The shape of a profile over layers: rank correlation with depth, monotone share, collapse ratio."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from rgnb.metrics.arrays import _to_numpy
from rgnb.validate import check_float


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
    rtol = check_float("rtol", rtol, 0.0, 1.0)
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
