"""Gaussian expectations of activations: F(K) = E_{z ~ N(0, K)}[phi(z) phi(z)^T], its derivatives in
packed coordinates, and the per-neuron Hessian contraction behind the self-interaction term.

Accuracy (float64): ReLU and erf are closed forms (round-off, < 1e-15 relative); tanh uses a 2-D
trapezoid rule whose step is set from the pole distance of tanh: measured against 30-digit mpmath
quadrature its absolute error is below 1e-14 for K_aa <= 8 (the older 13-digit step gave 1e-12 to 1.75e-11 for K_aa >= 1.5) (``tests/test_eft_gaussian.py``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np
import torch
from scipy.special import erf as _erf
from scipy.stats import norm

from rgnb.eft.kernels import n_packed, pack, unpack
from rgnb.validate import check_choice, check_int, check_psd_pairs, check_size

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "gaussian_F", "relu_F", "erf_F", "tanh_F",
           "gauss_hermite", "gaussian_expectation_2d", "trapezoid_expectation_2d", "DF", "D2F", "price_derivatives",
           "hessian_contraction", "TANH_F_ACCURACY"]

#: Stated (and tested) absolute accuracy of the tanh F for K_aa <= 8.
TANH_F_ACCURACY = 1e-14

_GH_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def gauss_hermite(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E_{z ~ N(0,1)}[f(z)] ~ sum w f(x), shape (m,), (m,)."""
    m = check_int("m", m, 1)
    check_size("m", m * m, 8)  # the companion matrix hermegauss diagonalises
    if m not in _GH_CACHE:
        x, w = np.polynomial.hermite_e.hermegauss(m)
        _GH_CACHE[m] = (x, w / w.sum())
    return _GH_CACHE[m]


def _quad_2d(K: np.ndarray, phi, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    K = np.asarray(K, dtype=np.float64)
    k = K.shape[-1]
    i, j = np.triu_indices(k)
    kaa, kbb, kab = K[..., i, i], K[..., j, j], K[..., i, j]
    sa = np.sqrt(np.maximum(kaa, 0.0))
    c = np.where(sa > 0, kab / np.where(sa > 0, sa, 1.0), 0.0)
    s = np.sqrt(np.maximum(kbb - c ** 2, 0.0))
    diag = i == j
    vals = np.empty(K.shape[:-2] + (len(i),))
    pu = phi(sa[..., diag, None] * x)
    vals[..., diag] = (pu * pu) @ w                                    # 1-D: E[phi(u)^2]
    sa, c, s = sa[..., ~diag], c[..., ~diag], s[..., ~diag]
    u = sa[..., None] * x                                              # (..., q, m)
    v = c[..., None, None] * x[:, None] + s[..., None, None] * x[None, :]  # (..., q, m, m)
    vals[..., ~diag] = (phi(u) * (phi(v) @ w)) @ w                      # E over z2, then z1
    return unpack(vals, k)


def gaussian_expectation_2d(K: np.ndarray, phi: Callable[[np.ndarray], np.ndarray], m: int = 48) -> np.ndarray:
    """F(K) for any phi by tensor Gauss-Hermite quadrature of each 2 x 2 block, (..., k, k) -> same.

    F_ab = E[phi(u) phi(v)] with u = sqrt(K_aa) z1, v = (K_ab/sqrt(K_aa)) z1 + sqrt(K_bb - K_ab^2/K_aa) z2.
    """
    return _quad_2d(K, phi, *gauss_hermite(m))


def trapezoid_expectation_2d(K: np.ndarray, phi: Callable[[np.ndarray], np.ndarray], pole: float = np.pi / 2,
                             digits: float = 18.0, half_width: float = 9.0) -> np.ndarray:
    """F(K) for a phi analytic in the strip |Im x| < ``pole`` (tanh: pi/2), by the trapezoid rule on
    z in [-half_width, half_width]^2. The rule converges like exp(-2 pi d / h), d = pole / sqrt(max K_aa);
    the step h is chosen for ``digits`` decimal digits by that estimate, whose constant is loose: 18 gives about 1e-15 (measured). Same shapes as
    :func:`gaussian_expectation_2d`."""
    K = np.asarray(K, dtype=np.float64)
    return _quad_2d(K, phi, *_trapezoid_nodes(float(np.max(np.diagonal(K, axis1=-2, axis2=-1))), pole, digits,
                                              half_width))


def _trapezoid_nodes(kmax: float, pole: float, digits: float, half_width: float = 9.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and normalised weights of the trapezoid rule for E_{z ~ N(0,1)} of phi(sqrt(K) z), K <= kmax
    (see :func:`trapezoid_expectation_2d`), (m,) each."""
    d = pole / math.sqrt(max(kmax, 1e-12))
    h = min(0.25, 2 * math.pi * d / (digits * math.log(10)))
    n_half = int(math.ceil(half_width / h))
    x = np.arange(-n_half, n_half + 1) * h
    w = np.exp(-x ** 2 / 2)
    return x, w / w.sum()


def relu_F(K: np.ndarray) -> np.ndarray:
    """Arc-cosine kernel of degree 1 (Cho & Saul): E[relu(u) relu(v)] = sqrt(K_aa K_bb)/(2 pi) *
    (sin th + (pi - th) cos th), cos th = K_ab / sqrt(K_aa K_bb). (..., k, k) -> same."""
    K = np.asarray(K, dtype=np.float64)
    d = np.sqrt(np.maximum(np.diagonal(K, axis1=-2, axis2=-1), 0.0))
    norm_ = d[..., :, None] * d[..., None, :]
    cos = np.clip(K / np.where(norm_ > 0, norm_, 1.0), -1.0, 1.0)
    th = np.arccos(cos)
    F = norm_ / (2 * np.pi) * (np.sin(th) + (np.pi - th) * cos)
    k = K.shape[-1]
    idx = np.arange(k)
    F[..., idx, idx] = 0.5 * np.diagonal(K, axis1=-2, axis2=-1)
    return F


def erf_F(K: np.ndarray) -> np.ndarray:
    """Closed form for phi = erf (Williams 1997): F_ab = (2/pi) arcsin(2 K_ab / sqrt((1+2K_aa)(1+2K_bb))),
    (..., k, k) PSD -> same, float64.

    Evaluated as (2/pi) atan2(2 K_ab, sqrt(1 + 2K_aa + 2K_bb + 4(K_aa K_bb - K_ab^2))), the same angle
    without arcsin's ill-conditioning near 1 (large variances): relative error < 1e-15 against 50-digit
    mpmath for 1e-8 <= K_aa <= 1e8 and any correlation (``tests/test_eft_gaussian.py``)."""
    K = np.asarray(K, dtype=np.float64)
    kd = np.diagonal(K, axis1=-2, axis2=-1)
    ka, kb = kd[..., :, None], kd[..., None, :]
    # (1+2K_aa)(1+2K_bb) - 4K_ab^2 = 1 + 2K_aa + 2K_bb + 4 det with the 2x2 determinant det = K_aa K_bb - K_ab^2
    # from exact products, so that it keeps its relative accuracy at correlations near +-1 (det may be a
    # round-off below 0; only a total below 0, an argument of arcsin beyond +-1, is clipped, as before)
    p1, e1 = _two_product(ka, kb)
    p2, e2 = _two_product(K, K)
    det = (p1 - p2) + (e1 - e2)
    return 2.0 / np.pi * np.arctan2(2.0 * K, np.sqrt(np.maximum(1.0 + 2.0 * ka + 2.0 * kb + 4.0 * det, 0.0)))


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker's error-free product: p = fl(a b) and e with a b = p + e exactly (float64, |a|, |b| < 1e290)."""
    def split(x):
        c = 134217729.0 * x  # 2^27 + 1
        hi = c - (c - x)
        return hi, x - hi
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def tanh_F(K: np.ndarray) -> np.ndarray:
    """F for tanh by :func:`trapezoid_expectation_2d` (absolute error < ``TANH_F_ACCURACY`` for K_aa <= 8)."""
    return trapezoid_expectation_2d(K, np.tanh)


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation: torch map for the samplers, numpy map and its derivatives for the closures, F(K).

    ``d2_np`` is None for ReLU, whose second derivative is a delta function (handled analytically
    in :func:`hessian_contraction`)."""

    name: str
    phi: Callable[[torch.Tensor], torch.Tensor]
    phi_np: Callable[[np.ndarray], np.ndarray]
    d1_np: Callable[[np.ndarray], np.ndarray]
    d2_np: Callable[[np.ndarray], np.ndarray] | None
    F: Callable[[np.ndarray], np.ndarray]
    F_method: str
    F_deriv: Callable[[np.ndarray], np.ndarray] | None = None  # a cheaper F for finite differences
    #: x -> (phi, phi', phi^(2), phi^(3), phi^(4)) at x, each shaped like x: where given, DF and D2F are
    #: Gaussian expectations of these (Price's theorem, :func:`price_derivatives`), not finite differences
    derivatives: Callable[[np.ndarray], tuple[np.ndarray, ...]] | None = None

    def F_for_derivatives(self, K: np.ndarray) -> np.ndarray:
        return (self.F_deriv or self.F)(K)


def _sech2(x):
    return 1.0 / np.cosh(x) ** 2


def _tanh_derivatives(x):
    t = np.tanh(x)
    s = 1.0 - t * t
    return t, s, -2.0 * t * s, -2.0 * s * (1.0 - 3.0 * t * t), 8.0 * t * s * (2.0 - 3.0 * t * t)


def _erf_derivatives(x):
    d1 = 2 / math.sqrt(math.pi) * np.exp(-x * x)
    return _erf(x), d1, -2.0 * x * d1, (4.0 * x * x - 2.0) * d1, (12.0 * x - 8.0 * x ** 3) * d1


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", torch.relu, lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(np.float64), None,
                       relu_F, "arc-cosine closed form"),
    "tanh": Activation("tanh", torch.tanh, np.tanh, _sech2, lambda x: -2.0 * np.tanh(x) * _sech2(x), tanh_F,
                       f"2-D trapezoid rule (absolute error < {TANH_F_ACCURACY:g} for K_aa <= 8)",
                       lambda K: trapezoid_expectation_2d(K, np.tanh, digits=13.0), _tanh_derivatives),
    "erf": Activation("erf", torch.erf, _erf, lambda x: 2 / math.sqrt(math.pi) * np.exp(-x ** 2),
                      lambda x: -4 * x / math.sqrt(math.pi) * np.exp(-x ** 2), erf_F, "arcsine closed form",
                      derivatives=_erf_derivatives),
    "linear": Activation("linear", lambda x: x, lambda x: x, np.ones_like, np.zeros_like,
                         lambda K: np.array(K, dtype=np.float64, copy=True), "identity (F(K) = K)"),
}


def get_activation(activation: str | Activation) -> Activation:
    """Look up an activation by name; raises ValueError for an unknown one."""
    if isinstance(activation, Activation):
        return activation
    return ACTIVATIONS[check_choice("activation", activation, sorted(ACTIVATIONS))]


def gaussian_F(K, activation: str | Activation) -> np.ndarray:
    """F(K) = E_{z ~ N(0,K)}[phi(z) phi(z)^T], (..., k, k) float64; K finite, symmetric, PSD (pairwise)."""
    K = check_psd_pairs("K", K)
    return get_activation(activation).F(K)


def _unit_directions(k: int) -> np.ndarray:
    """(p, k, k): the symmetric matrices E_(ab) moving the packed entry (ab) by one."""
    return unpack(np.eye(n_packed(k)), k)


def DF(K: np.ndarray, activation: str | Activation, rel_step: float = 1e-3) -> np.ndarray:
    """Jacobian of packed F at K in packed coordinates, (p, p): DF[X] = DF @ pack(X).
    Activations with ``derivatives`` (tanh, erf): Price's theorem (:func:`price_derivatives`). Otherwise fourth-order central differences in float64 (on ``Activation.F_for_derivatives``: for tanh a
    13-digit rule, error ~1e-12 in F, ~1e-9 in DF and ~1e-8 in D2F)."""
    act = get_activation(activation)
    K = np.asarray(K, dtype=np.float64)
    if act.derivatives is not None and K.ndim == 2:
        return price_derivatives(K, act)[1]
    k = K.shape[-1]
    h = rel_step * np.abs(K).max()
    E = _unit_directions(k)
    stencil = np.array([-2, -1, 1, 2], dtype=np.float64)
    Ks = K[None, None] + h * stencil[:, None, None, None] * E[None]  # (4, p, k, k)
    Fp = pack(act.F_for_derivatives(Ks))  # (4, p, p_out)
    d = (Fp[0] - 8 * Fp[1] + 8 * Fp[2] - Fp[3]) / (12 * h)  # (p_in, p_out)
    return d.T


def D2F(K: np.ndarray, activation: str | Activation, V: np.ndarray, rel_step: float = 1e-2) -> np.ndarray:
    """Second derivative contracted with a (p, p) symmetric V: sum_{ij} d^2 F / dK_i dK_j V_ij, (k, k).
    Activations with ``derivatives``: the exact bilinear form of :func:`price_derivatives`. Otherwise
    eigen-decomposes V and takes fourth-order second differences along each eigendirection."""
    act = get_activation(activation)
    K = np.asarray(K, dtype=np.float64)
    k = K.shape[-1]
    V = 0.5 * (np.asarray(V, dtype=np.float64) + np.asarray(V, dtype=np.float64).T)
    if act.derivatives is not None and K.ndim == 2:
        return unpack(np.einsum("rso,rs->o", price_derivatives(K, act)[2], V), k)
    lam, U = np.linalg.eigh(V)
    h = rel_step * np.abs(K).max()
    dirs = unpack(U.T, k)  # (p, k, k), unit packed norm
    stencil = np.array([-2, -1, 0, 1, 2], dtype=np.float64)
    Ks = K[None, None] + h * stencil[:, None, None, None] * dirs[None]
    Fs = act.F_for_derivatives(Ks)  # (5, p, k, k)
    sec = (-Fs[0] + 16 * Fs[1] - 30 * Fs[2] + 16 * Fs[3] - Fs[4]) / (12 * h ** 2)
    return np.einsum("r,rab->ab", lam, sec)


def price_derivatives(K: np.ndarray, activation: str | Activation, digits: float = 16.0
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F, DF and the bilinear form of D2F at one kernel K (k, k), as Gaussian expectations of derivatives
    of phi (Price's theorem), for an activation with ``derivatives``: packed F (p,), DF (p_out, p_in) and
    H (p_in, p_in, p_out) with pack(D2F(K)[V]) = sum_rs H[r, s] V_rs.

    For a pair a < b, F_ab = E[phi(u) phi(v)] depends on (K_aa, K_bb, K_ab) only; d/dK_ab = E[d_u d_v] and
    d/dK_aa = E[d_u^2] / 2. With M_ij = E[phi^(i)(u) phi^(j)(v)]: dF_ab/dK_ab = M_11, dF_ab/dK_aa = M_20 / 2,
    d2F_ab/dK_ab^2 = M_22, d2/dK_aa^2 = M_40 / 4, d2/dK_aa dK_bb = M_22 / 4, d2/dK_aa dK_ab = M_31 / 2.
    F_aa = E[phi(u)^2] has derivatives E[g''] / 2 and E[g4] / 4 with g = phi^2, g4 its fourth derivative.
    One trapezoid rule (as :func:`trapezoid_expectation_2d`, pole pi/2, ``digits``) serves every expectation:
    one evaluation of phi per node instead of the 50 to 160 F evaluations of finite differences, and no
    truncation error. ``digits`` = 16: against a 24-digit rule DF is within 1e-12 and D2F within 1e-9 absolute
    up to K_aa ~ 36 (the fourth derivative's fifth-order poles converge slower than F: 13 digits left 5e-8),
    ``tests/test_eft.py``; the finite differences it replaces were off by up to 2e-7 there."""
    act = get_activation(activation)
    if act.derivatives is None:
        raise ValueError(f"activation {act.name!r} has no derivatives for Price's theorem")
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be one (k, k) kernel, got shape {K.shape}")
    k = K.shape[0]
    p = n_packed(k)
    x, w = _trapezoid_nodes(float(np.max(np.diag(K))), np.pi / 2, digits)
    i, j = np.triu_indices(k)
    index = {(a, b): r for r, (a, b) in enumerate(zip(i, j))}
    F, DFm, H = np.zeros(p), np.zeros((p, p)), np.zeros((p, p, p))
    for r, (a, b) in enumerate(zip(i, j)):
        sa = math.sqrt(max(K[a, a], 0.0))
        if a == b:
            d0, d1, d2, d3, d4 = act.derivatives(sa * x)
            F[r] = (d0 * d0) @ w
            DFm[r, r] = (d1 * d1 + d0 * d2) @ w                               # E[g''] / 2
            H[r, r, r] = 0.5 * ((d0 * d4 + 4 * d1 * d3 + 3 * d2 * d2) @ w)   # E[g4] / 4
            continue
        c = K[a, b] / sa if sa > 0 else 0.0
        s = math.sqrt(max(K[b, b] - c * c, 0.0))
        du = act.derivatives(sa * x)                                                   # 5 x (m,)
        dv = [d @ w for d in act.derivatives(c * x[:, None] + s * x[None, :])]        # E over z2: 5 x (m,)
        M = {(ii, jj): float((du[ii] * dv[jj]) @ w)
             for ii, jj in ((0, 0), (1, 1), (2, 0), (0, 2), (2, 2), (4, 0), (0, 4), (3, 1), (1, 3))}
        xa, yb = index[(a, a)], index[(b, b)]
        F[r] = M[0, 0]
        DFm[r, r], DFm[r, xa], DFm[r, yb] = M[1, 1], 0.5 * M[2, 0], 0.5 * M[0, 2]
        H[r, r, r] = M[2, 2]
        H[xa, xa, r], H[yb, yb, r] = 0.25 * M[4, 0], 0.25 * M[0, 4]
        H[xa, yb, r] = H[yb, xa, r] = 0.25 * M[2, 2]
        H[xa, r, r] = H[r, xa, r] = 0.5 * M[3, 1]
        H[yb, r, r] = H[r, yb, r] = 0.5 * M[1, 3]
    return F, DFm, H


def _relu_delta_term(x_prev: np.ndarray, D: np.ndarray, a: int, b: int) -> np.ndarray:
    """E_xi[delta(h_a) relu(h_b)] for h = x_prev + xi, xi ~ N(0, D): per path, (m,)."""
    daa = D[a, a]
    m = x_prev[:, b] + D[a, b] / daa * (-x_prev[:, a])
    s = math.sqrt(max(D[b, b] - D[a, b] ** 2 / daa, 1e-300))
    dens = norm.pdf(x_prev[:, a], scale=math.sqrt(daa))
    return dens * (m * norm.cdf(m / s) + s * norm.pdf(m / s))


def hessian_contraction(h: np.ndarray, c: np.ndarray, activation: str | Activation,
                        h_prev: np.ndarray | None = None, D: np.ndarray | None = None) -> np.ndarray:
    """Per path, 1/2 sum_{cd} c_cd d^2(phi_a phi_b)/dh_c dh_d at h, for every packed (ab): (m, p).

    h (m, k) neuron pre-activations, c (m, p) packed symmetric weights. For ReLU the second
    derivative of phi is a delta function; its terms are evaluated in expectation over the last
    Gaussian increment, h = h_prev + xi with xi ~ N(0, D) independent of c (``h_prev`` (m, k),
    ``D`` (k, k) needed then)."""
    act = get_activation(activation)
    h = np.asarray(h, dtype=np.float64)
    m, k = h.shape
    C = unpack(np.asarray(c, dtype=np.float64), k)  # (m, k, k)
    ph, d1 = act.phi_np(h), act.d1_np(h)
    i, j = np.triu_indices(k)
    out = np.empty((m, len(i)))
    for col, (a, b) in enumerate(zip(i, j)):
        cross = 2.0 * C[:, a, b] * d1[:, a] * d1[:, b]
        if act.d2_np is not None:
            d2 = act.d2_np(h)
            diag = C[:, a, a] * d2[:, a] * ph[:, b] + C[:, b, b] * ph[:, a] * d2[:, b]
        elif a == b:
            diag = 0.0  # relu * delta = 0
        else:
            if h_prev is None or D is None:
                raise ValueError("h_prev and D are needed for the ReLU delta terms")
            diag = (C[:, a, a] * _relu_delta_term(h_prev, D, a, b) + C[:, b, b] * _relu_delta_term(h_prev, D, b, a))
        out[:, col] = 0.5 * (cross + diag)
    return out
