"""Representation metrics: effective rank, participation ratio, linear CKA, kernel drift.

Conventions. A *representation* is an array ``X`` of shape (..., N, d): N samples (rows) of d
features, batched over any leading axes. A *stream* is a residual stream ``h`` of shape
(..., N, T, d): N sequences, T positions, d channels (``rgnb.mlp.train.SweepResult.streams`` gives
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
import math
from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

from rgnb.stats import Interval, mean_ci
from rgnb.validate import check_finite_array, check_float, check_int

STREAM_MODES = ("position", "pooled", "stacked")
MEASURES = ("erank", "pr")
_EPS = 1e-12


# --------------------------------------------------------------------------------------------- #
# Input handling
# --------------------------------------------------------------------------------------------- #
def _to_numpy(x: Any, name: str) -> np.ndarray:
    """numpy float64 view of a real array or torch tensor (detached, on the CPU); complex, text and
    non-finite values are refused (:func:`rgnb.validate.check_finite_array`)."""
    return check_finite_array(name, x)


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


def _centre(X: np.ndarray) -> np.ndarray:
    return X - X.mean(axis=-2, keepdims=True)


# --------------------------------------------------------------------------------------------- #
# Spectral measures of a representation
# --------------------------------------------------------------------------------------------- #
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


# --------------------------------------------------------------------------------------------- #
# Confidence intervals over seeds
# --------------------------------------------------------------------------------------------- #
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


# --------------------------------------------------------------------------------------------- #
# Protocol v2: masked rows per position, normalised stream, scale-aware and task-relevant dimension
# --------------------------------------------------------------------------------------------- #
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


def masked_rows(h: Any, mask: Any, t: int) -> np.ndarray:
    """Rows of position ``t`` where the token is masked: ``h[..., mask[:, t], t, :]`` -> (..., n_t, d).

    ``h`` (..., N, T, d); ``mask`` (N, T) bool (True = masked, the rows that carry the loss).
    """
    h = _stream(h)
    m = np.asarray(mask)
    if m.dtype != np.bool_ or m.shape != h.shape[-3:-1]:
        raise ValueError(f"mask must be a bool array of shape {h.shape[-3:-1]}, got {m.dtype} {m.shape}")
    t = check_int("t", t, 0, h.shape[-2] - 1)
    return h[..., m[:, t], t, :]


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
    m = np.asarray(mask)
    positions = [t for t in range(h.shape[2]) if int(m[:, t].sum()) >= min_rows] if m.dtype == np.bool_ else []
    if not positions:
        raise ValueError(f"mask must leave at least {min_rows} masked rows at some position")
    out = {f"{k}_{v}": np.zeros(h.shape[0]) for k in DIMENSIONS for v in VIEWS}
    for t in positions:
        X = masked_rows(h, m, t)  # (L+1, n_t, d)
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
    m = np.asarray(mask)
    positions = [t for t in range(h.shape[2]) if int(m[:, t].sum()) >= min_rows]
    if not positions:
        raise ValueError(f"mask must leave at least {min_rows} masked rows at some position")
    out = np.zeros(h.shape[0] - 1)
    for t in positions:
        X = masked_rows(h, m, t)
        out += 1.0 - np.asarray(linear_cka(X[:-1], X[1:]))
    return out / len(positions)


def _fit_probe(X: torch.Tensor, y: torch.Tensor, n_classes: int, rank: int | None, init=None,
               l2: float = 1e-3, iters: int = 60):
    """Multinomial logistic regression on X (n, d) -> logits X A B + b (rank ``rank``; full if None), float64."""
    d = X.shape[1]
    if rank is None:
        W = torch.zeros(d, n_classes, dtype=torch.float64, requires_grad=True)
        factors = [W]
    else:
        A0, B0 = init
        A = A0[:, :rank].contiguous().clone().requires_grad_(True)
        B = B0[:rank].contiguous().clone().requires_grad_(True)
        factors = [A, B]
    b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(factors + [b], lr=1.0, max_iter=iters, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=10, line_search_fn="strong_wolfe")

    def weight():
        return factors[0] if rank is None else factors[0] @ factors[1]

    def closure():
        opt.zero_grad()
        W = weight()
        loss = torch.nn.functional.cross_entropy(X @ W + b, y) + l2 * (W**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return weight().detach(), b.detach()


class _Probe:
    """Linear probes of every rank on one (fit, eval) split (see :func:`probe_losses`)."""

    def __init__(self, X_fit: Any, y_fit: Any, X_eval: Any, y_eval: Any, n_classes: int, iters: int):
        Xf, Xe = _to_numpy(X_fit, "X_fit"), _to_numpy(X_eval, "X_eval")
        if Xf.ndim != 2 or Xe.ndim != 2 or Xf.shape[1] != Xe.shape[1]:
            raise ValueError(f"X_fit and X_eval must be (n, d) with the same d, got {Xf.shape} and {Xe.shape}")
        self.n_classes = check_int("n_classes", n_classes, 2)
        self.iters = check_int("iters", iters, 1, 10_000)
        self.yf = torch.as_tensor(np.asarray(y_fit), dtype=torch.int64)
        self.ye = torch.as_tensor(np.asarray(y_eval), dtype=torch.int64)
        if self.yf.shape != (Xf.shape[0],) or self.ye.shape != (Xe.shape[0],):
            raise ValueError("y_fit and y_eval must have one label per row of X_fit and X_eval")
        mu, sd = Xf.mean(0), Xf.std(0) + 1e-8
        self.Xf = torch.from_numpy((Xf - mu) / sd)
        self.Xe = torch.from_numpy((Xe - mu) / sd)
        self.max_rank = min(Xf.shape[1], self.n_classes - 1)
        W, b = _fit_probe(self.Xf, self.yf, self.n_classes, None, iters=2 * self.iters)
        self.full = self._eval(W, b)
        U, S, Vh = torch.linalg.svd(W - W.mean(1, keepdim=True), full_matrices=False)
        root = S.sqrt()
        self.init = (U * root, root[:, None] * Vh)
        self.cache: dict[int, float] = {self.max_rank: self.full}

    def _eval(self, W, b) -> float:
        return float(torch.nn.functional.cross_entropy(self.Xe @ W + b, self.ye))

    def loss(self, rank: int) -> float:
        if rank not in self.cache:
            if rank == 0:
                prior = torch.bincount(self.yf, minlength=self.n_classes).double() + 1.0
                logits = torch.log(prior / prior.sum()).expand(len(self.ye), -1)
                self.cache[0] = float(torch.nn.functional.cross_entropy(logits, self.ye))
            else:
                self.cache[rank] = self._eval(*_fit_probe(self.Xf, self.yf, self.n_classes, rank, init=self.init,
                                                          iters=self.iters))
        return self.cache[rank]


def probe_losses(X_fit: Any, y_fit: Any, X_eval: Any, y_eval: Any, n_classes: int, iters: int = 60) -> np.ndarray:
    """Held-out masked loss (nats) of linear probes of every rank: (max_rank + 1,), entry r for rank r.

    Entry 0 is the constant (context-free) probe, entries 1 .. max_rank - 1 reduced-rank probes
    ``W = A B`` (``A`` d x r), and the last entry ``max_rank = min(d, n_classes - 1)`` the full-rank
    probe (softmax is invariant to adding a constant to every logit, so rank ``n_classes - 1``
    is full). Features are standardised with the fit set's mean and scale; probes are fitted by
    L-BFGS in float64 from a deterministic start (the truncated SVD of the full probe).
    """
    probe = _Probe(X_fit, y_fit, X_eval, y_eval, n_classes, iters)
    return np.array([probe.loss(r) for r in range(probe.max_rank + 1)])


def task_relevant_dimension(X_fit: Any, y_fit: Any, X_eval: Any, y_eval: Any, n_classes: int,
                            tol: float = 0.01, iters: int = 60) -> tuple[int, float]:
    """Smallest rank r of a linear probe whose held-out loss is within ``tol`` nats of the full-rank
    probe, found by bisection over r (probe loss is nonincreasing in r up to fitting error).

    Returns ``(r, full-rank held-out loss)``; r = 0 when the context-free prior is already within
    ``tol``. Rows: masked positions; labels: the true tokens (see :func:`probe_losses`).
    """
    tol = check_float("tol", tol, 0.0, 10.0)
    probe = _Probe(X_fit, y_fit, X_eval, y_eval, n_classes, iters)
    target = probe.full + tol
    lo, hi = 0, probe.max_rank  # invariant: loss(hi) <= target; answer in [lo, hi]
    if probe.loss(0) <= target:
        return 0, probe.full
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if probe.loss(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi, probe.full


def dimension_from_losses(losses: Any, tol: float = 0.01) -> int:
    """Smallest rank whose probe loss is within ``tol`` nats of the last (full-rank) entry, (R+1,) -> int."""
    tol = check_float("tol", tol, 0.0, 10.0)
    v = _to_numpy(losses, "losses")
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"losses must have shape (R+1,) with R >= 1, got shape {v.shape}")
    return int(np.argmax(v <= v[-1] + tol))


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
