"""The G-only closure (the paper's): S is replaced by F(G), expanded to second order around K0.

Continuous depth (eps -> 0):
  dK0/dt = s^2 F(K0);  dV/dt = s^2 (J V + V J^T + Q(K0, F(K0)));  dK1/dt = s^2 (J K1 + D2F(K0)[V] / 2),
with J = DF(K0), K0(0) = K_in, V(0) = Wishart(K_in), K1(0) = 0.
Exact recursion of the same approximation at step eps (what an L-layer network should match):
  K0' = K0 + eps s^2 F;  V' = (I + eps s^2 J) V (I + eps s^2 J)^T + eps s^2 Q(K0, F) + eps^2 s^4 W(F);
  K1' = K1 + eps s^2 (J K1 + D2F(K0)[V] / 2),
where the eps^2 terms are the Wishart covariance of the increment and the square of the transport.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp

from rgnb.eft.gaussian import D2F, DF, get_activation, price_derivatives
from rgnb.eft.kernels import check_kernel, four_term, n_packed, pack, unpack, wishart
from rgnb.validate import check_finite_array, check_float, check_int

MAX_DEPTH = 1 << 14


@dataclasses.dataclass(frozen=True)
class ClosureSolution:
    """A closure's K0 (nt, k, k), V4 = lim n Cov(G) (nt, p, p) and K1 = lim n (E[G] - K0) (nt, k, k)."""

    t: np.ndarray
    K0: np.ndarray
    V4: np.ndarray
    K1: np.ndarray
    extra: dict = dataclasses.field(default_factory=dict)


def _common(K_in, T, sigma_w, activation):
    return (check_kernel(K_in), check_float("T", T, 0.0, 1e3, low_open=True),
            check_float("sigma_w", sigma_w, 0.0, 1e2, low_open=True), get_activation(activation))


def local_derivatives(K: np.ndarray, act) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """J = DF(K) (p, p) and V -> pack(D2F(K)[V]) (p,), from one Price evaluation where the activation has
    ``derivatives`` (:func:`rgnb.eft.gaussian.price_derivatives`), else by finite differences."""
    if act.derivatives is not None:
        _, J, H = price_derivatives(K, act)
        return J, lambda V: np.einsum("rso,rs->o", H, V)
    return DF(K, act), lambda V: pack(D2F(K, act, V))


def check_t_eval(t_eval, T: float) -> np.ndarray:
    """A finite, non-decreasing 1-D grid inside [0, T]."""
    t = check_finite_array("t_eval", t_eval, ndim=1, low=0.0, high=T * (1 + 1e-12))
    if t.size < 1 or np.any(np.diff(t) < 0):
        raise ValueError(f"t_eval must be a non-empty non-decreasing 1-D grid inside [0, T={T}], got {t_eval!r}")
    return t


def k0_discrete(K_in, depth: int, T: float, sigma_w: float, activation: str) -> np.ndarray:
    """Infinite-width limit of the L-layer network: K^{l+1} = K^l + eps sigma_w^2 F(K^l), (L+1, k, k)."""
    K, T, sigma_w, act = _common(K_in, T, sigma_w, activation)
    depth = check_int("depth", depth, 1, MAX_DEPTH)
    eps = T / depth
    out = [K]
    for _ in range(depth):
        out.append(out[-1] + eps * sigma_w ** 2 * act.F(out[-1]))
    return np.stack(out)


def g_only_discrete(K_in, depth: int, T: float, sigma_w: float, activation: str) -> ClosureSolution:
    """The G-only closure's exact recursion at eps = T / depth (see module doc), on the L+1 layers."""
    K, T, sigma_w, act = _common(K_in, T, sigma_w, activation)
    depth = check_int("depth", depth, 1, MAX_DEPTH)
    eps, s2 = T / depth, sigma_w ** 2
    k = K.shape[0]
    p = n_packed(k)
    V = wishart(K)
    K1 = np.zeros(p)
    Ks, Vs, K1s = [K], [V], [K1]
    for _ in range(depth):
        F = act.F(K)
        J, d2f = local_derivatives(K, act)
        M = np.eye(p) + eps * s2 * J
        K1 = K1 + eps * s2 * (J @ K1 + 0.5 * d2f(V))
        V = M @ V @ M.T + eps * s2 * four_term(K, F) + (eps * s2) ** 2 * wishart(F)
        K = K + eps * s2 * F
        Ks.append(K), Vs.append(V), K1s.append(K1)
    return ClosureSolution(np.linspace(0.0, T, depth + 1), np.stack(Ks), np.stack(Vs), unpack(np.stack(K1s), k))


def solve_g_only(K_in, T: float, sigma_w: float, activation: str, t_eval, rtol: float = 1e-8,
                 atol: float = 1e-12) -> ClosureSolution:
    """G-only closure ODEs (module doc) by solve_ivp (DOP853) on packed entries, float64."""
    K_in, T, sigma_w, act = _common(K_in, T, sigma_w, activation)
    rtol = check_float("rtol", rtol, 1e-14, 1e-8)
    t_eval = check_t_eval(t_eval, T)
    k = K_in.shape[0]
    p = n_packed(k)
    s2 = sigma_w ** 2

    def rhs(_t, y):
        K = unpack(y[:p], k)
        V = y[p:p + p * p].reshape(p, p)
        K1 = y[p + p * p:]
        F = act.F(K)
        J, d2f = local_derivatives(K, act)
        dK = s2 * pack(F)
        dV = s2 * (J @ V + V @ J.T + four_term(K, F))
        dK1 = s2 * (J @ K1 + 0.5 * d2f(V))
        return np.concatenate([dK, dV.ravel(), dK1])

    y0 = np.concatenate([pack(K_in), wishart(K_in).ravel(), np.zeros(p)])
    t_end = float(t_eval[-1]) if t_eval[-1] > 0 else T
    sol = solve_ivp(rhs, (0.0, t_end), y0, t_eval=t_eval, method="DOP853", rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    Y = sol.y.T
    return ClosureSolution(t_eval, unpack(Y[:, :p], k), Y[:, p:p + p * p].reshape(-1, p, p),
                           unpack(Y[:, p + p * p:], k))


def solve_k0(K_in, T: float, sigma_w: float, activation: str, t_eval, rtol: float = 1e-10) -> np.ndarray:
    """K0(t) alone (dK0/dt = sigma_w^2 F(K0)), (nt, k, k)."""
    K_in, T, sigma_w, act = _common(K_in, T, sigma_w, activation)
    t_eval = check_t_eval(t_eval, T)
    k = K_in.shape[0]
    sol = solve_ivp(lambda _t, y: sigma_w ** 2 * pack(act.F(unpack(y, k))), (0.0, T), pack(K_in), t_eval=t_eval,
                    method="DOP853", rtol=rtol, atol=1e-13)
    return unpack(sol.y.T, k)
