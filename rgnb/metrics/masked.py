"""Protocol v2 of the measurement: masked rows per position, the normalised stream LN(h), dimension and drift.

``h`` (L+1, N, T, d) is a layered residual stream, ``mask`` (N, T) bool the masked positions (the
rows that carry the loss); each measure is taken per position over its masked rows, then averaged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rgnb.metrics.arrays import _stream, _to_numpy
from rgnb.metrics.drift import linear_cka
from rgnb.metrics.spectral import erank_from_singular, pcs_for_variance, pr_from_singular, singular_values
from rgnb.validate import check_int


#: Dimension measures of protocol v2 (per position, masked rows only, then averaged over positions).
DIMENSIONS = ("erank", "pr", "pc90")
#: Streams a dimension is measured on: the raw residual stream h^l and LN(h^l) (per row standardised,
#: the normalised stream the next block reads, without its learned gain and shift).
VIEWS = ("ln", "raw")
#: LayerNorm epsilon of the networks (rgnb.mlp.model) and of the measured LN(h^l), one constant for both.
LN_EPS = 1e-5


def layer_norm_rows(X: Any) -> np.ndarray:
    """Per-row standardisation of ``X`` (..., d) over its last axis (LayerNorm without gain and shift)."""
    X = _to_numpy(X, "X")
    mu = X.mean(-1, keepdims=True)
    var = X.var(-1, keepdims=True)
    return (X - mu) / np.sqrt(var + LN_EPS)


def masked_rows(h: Any, mask: Any, t: int) -> np.ndarray:
    """Rows of position ``t`` where the token is masked: ``h[..., mask[:, t], t, :]`` -> (..., n_t, d).

    ``h`` (..., N, T, d); ``mask`` (N, T) bool (True = masked, the rows that carry the loss).
    """
    h = _stream(h)
    m = _mask(mask, h)
    t = check_int("t", t, 0, h.shape[-2] - 1)
    return h[..., m[:, t], t, :]


def _mask(mask: Any, h: np.ndarray) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype != np.bool_ or m.shape != h.shape[-3:-1]:
        raise ValueError(f"mask must be a bool array of shape {h.shape[-3:-1]}, got {m.dtype} {m.shape}")
    return m


def masked_dimension_profile(h: Any, mask: Any, min_rows: int = 8) -> dict[str, np.ndarray]:
    """Protocol v2 dimension profile of a layered stream over masked rows.

    ``h`` (L+1, N, T, d), ``mask`` (N, T) bool. For each layer, each view (``ln``: LN(h^l); ``raw``:
    h^l) and each position t with at least ``min_rows`` masked rows, the singular values of the
    masked rows of position t, centred over rows; erank, participation ratio and PCs for 90 % of
    the variance; then the mean over those positions. Returns ``"<dim>_<view>"`` -> (L+1,).
    Centring: the rows are centred (the mean over the masked rows of a position is removed), so
    the measures describe the spread of the representation, not its offset.
    """
    h = _stream(h)
    if h.ndim != 4:
        raise ValueError(f"h must have shape (L+1, N, T, d), got shape {h.shape}")
    min_rows = check_int("min_rows", min_rows, 2)
    m = _mask(mask, h)
    positions = [t for t in range(h.shape[2]) if int(m[:, t].sum()) >= min_rows]
    if not positions:
        raise ValueError(f"mask must leave at least {min_rows} masked rows at some position")
    out = {f"{k}_{v}": np.zeros(h.shape[0]) for k in DIMENSIONS for v in VIEWS}
    for t in positions:
        X = h[:, m[:, t], t, :]  # (L+1, n_t, d): masked_rows without checking all of h again per position
        for view, Y in (("raw", X), ("ln", layer_norm_rows(X))):
            s = singular_values(Y)
            # Rows identical up to round-off (e.g. h^0 on masked rows: every row is the mask embedding
            # plus the same position embedding) have no spread: dimension 0, not a round-off spectrum.
            spread = (s**2).sum(-1)
            scale = (Y**2).sum((-1, -2))
            s = np.where((spread <= 1e-10 * np.where(scale > 0, scale, 1.0))[:, None], 0.0, s)
            out[f"erank_{view}"] += erank_from_singular(s)
            out[f"pr_{view}"] += pr_from_singular(s)
            out[f"pc90_{view}"] += pcs_for_variance(s)
    return {k: v / len(positions) for k, v in out.items()}


def masked_drift_profile(h: Any, mask: Any, min_rows: int = 8) -> np.ndarray:
    """Kernel drift ``1 - CKA(K^l, K^{l+1})`` over masked rows, per position then averaged, (L+1, N, T, d) -> (L,)."""
    h = _stream(h)
    if h.ndim != 4 or h.shape[0] < 2:
        raise ValueError(f"h must have shape (L+1, N, T, d) with L >= 1, got shape {h.shape}")
    min_rows = check_int("min_rows", min_rows, 2)
    m = _mask(mask, h)
    positions = [t for t in range(h.shape[2]) if int(m[:, t].sum()) >= min_rows]
    if not positions:
        raise ValueError(f"mask must leave at least {min_rows} masked rows at some position")
    out = np.zeros(h.shape[0] - 1)
    for t in positions:
        X = h[:, m[:, t], t, :]
        out += 1.0 - np.asarray(linear_cka(X[:-1], X[1:]))
    return out / len(positions)
