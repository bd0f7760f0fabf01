"""The sigma-kernel closure with the self-interaction term (ours).

State: K0 and, per neuron of the infinite-width network, its path h (Gaussian, independent
increments of covariance eps s^2 F(K0^l)) and its accumulated contribution c to n C, where
C^l = K_in + eps s^2 sum_{m<l} S^m is the conditional covariance of every neuron given the path of S:
  c' = c + eps s^2 [phi phi^T(h) - F(K0) + J c],  c^0 = 0  (J c: the other neurons' response to it).
Leading order in 1/n (packed, per layer):
  V4 = Cov(h h^T - K0 + c),  V_C = Cov(c),
  K1' = K1 + eps s^2 [J K1 + D2F(K0)[V_C] / 2 + Sigma],  K1^0 = 0,
  Sigma_ab = E[ 1/2 sum_cd c_cd d^2(phi_a phi_b)/dh_c dh_d (h) ]   (the self-interaction).
Sigma is the feedback of a neuron on itself: its own 1/n share of S enters the covariance of its
next increments. It follows from Ito's (here: the discrete Duhamel) formula for E f(h) with the
backward Gaussian-smoothing kernel, see the chapter. ``self_interaction=False`` gives the closure
without it (the stored book's). The continuum closure is the recursion at a fine step with a
Richardson step (2 y(eps/2) - y(eps)).
Standard error of K1: every layer's V_C and Sigma are means over the *same* paths, so K1^l is, to
leading order, the path mean of a per-path influence z_i^l, accumulated by the same recursion,
  z_i' = M z_i + eps s^2 [D2F(K0)[c0_i c0_i^T] / 2 + sigma_i],  z_i^0 = 0,  M = 1 + eps s^2 J,
(c0_i = c_i - mean c, sigma_i the path's self-interaction estimator); K1_se = std_i(z^l) / sqrt(n_paths).
This keeps the covariances between layers (summing per-layer variances dropped them and understated
the SE about 5x at L = 32).
"""

from __future__ import annotations

import math

import numpy as np

from rgnb.eft.closures.g_only import ClosureSolution, _common, check_t_eval, k0_discrete
from rgnb.eft.gaussian import D2F, DF, hessian_contraction, price_derivatives
from rgnb.eft.kernels import n_packed, pack, psd_sqrt, unpack
from rgnb.validate import check_int, check_seed, check_size

MAX_PATHS = 1 << 24


def _d2f_bilinear(K: np.ndarray, act, rel_step: float = 1e-2) -> np.ndarray:
    """The bilinear form of D2F at K: H (p, p, p) with pack(D2F(K, act, V)) = sum_rs H[r, s] V_rs for any
    symmetric packed V (p, p). Fourth-order second differences (step and F as in :func:`D2F`) along the
    p unit directions e_r and the p (p - 1) / 2 sums e_r + e_s, then polarisation; exact (Price's theorem,
    :func:`rgnb.eft.gaussian.price_derivatives`) for an activation with ``derivatives``."""
    if act.derivatives is not None:
        return price_derivatives(K, act)[2]
    k = K.shape[-1]
    p = n_packed(k)
    r, s = np.triu_indices(p, 1)
    dirs = np.concatenate([np.eye(p), np.eye(p)[r] + np.eye(p)[s]])  # (p + p(p-1)/2, p)
    h = rel_step * np.abs(K).max()
    stencil = np.array([-2, -1, 0, 1, 2], dtype=np.float64)
    Ks = K[None, None] + h * stencil[:, None, None, None] * unpack(dirs, k)[None]
    Fs = pack(act.F_for_derivatives(Ks))  # (5, n_dirs, p)
    sec = (-Fs[0] + 16 * Fs[1] - 30 * Fs[2] + 16 * Fs[3] - Fs[4]) / (12 * h ** 2)
    H = np.zeros((p, p, p))
    H[np.arange(p), np.arange(p)] = sec[:p]
    cross = 0.5 * (sec[p:] - sec[r] - sec[s])
    H[r, s], H[s, r] = cross, cross
    return H


def sigma_closure_discrete(K_in, depth: int, T: float, sigma_w: float, activation: str, n_paths: int = 100_000,
                           seed: int = 0, self_interaction: bool = True) -> ClosureSolution:
    """The sigma-kernel closure's recursion at eps = T / depth (module doc); neuron expectations are
    sample means over ``n_paths`` independent paths (generator seeded with ``seed``).
    Returns K0, V4, K1 on the L+1 layers and extra = {"VC", "VGS" (n Cov(G, S)), "self" (packed Sigma),
    "K1_se" (Monte Carlo standard error of K1 from the paths, packed (L+1, p): the spread of the per-path
    influence z (module doc), layers' shared paths included), "V4_se" (that of V4, (L+1, p, p))}."""
    K, T, sigma_w, act = _common(K_in, T, sigma_w, activation)
    depth = check_int("depth", depth, 1, 1 << 14)
    n_paths = check_int("n_paths", n_paths, 100, MAX_PATHS)
    seed = check_seed("seed", seed)
    k = K.shape[0]
    p = n_packed(k)
    check_size("n_paths", n_paths * (k + 5 * p + p * p))
    eps, s2 = T / depth, sigma_w ** 2
    K0 = k0_discrete(K, depth, T, sigma_w, act)
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(k)
    h = rng.standard_normal((n_paths, k)) @ psd_sqrt(K).T
    h_prev, D_prev = None, None
    c = np.zeros((n_paths, p))
    K1 = np.zeros(p)
    z = np.zeros((n_paths, p))  # per-path influence on K1 (module doc), for its standard error
    V4s, VCs, VGSs, selfs, K1s, K1_se, V4_se = [], [], [], [], [], [], []
    for layer in range(depth + 1):
        Kl = K0[layer]
        F = act.F(Kl)
        J = DF(Kl, act)
        ph = act.phi_np(h)
        phph = ph[:, iu[0]] * ph[:, iu[1]]
        psi = h[:, iu[0]] * h[:, iu[1]] - pack(Kl) + c
        sig = phph - pack(F) + c @ J.T
        psi0, c0, sig0 = psi - psi.mean(0), c - c.mean(0), sig - sig.mean(0)
        V4s.append(psi0.T @ psi0 / (n_paths - 1))
        V4_se.append(np.sqrt(np.einsum("mi,mj->ij", psi0 ** 2, psi0 ** 2) / n_paths - V4s[-1] ** 2)
                     / math.sqrt(n_paths))
        VC = c0.T @ c0 / (n_paths - 1)
        VCs.append(VC)
        VGSs.append(psi0.T @ sig0 / (n_paths - 1))
        K1s.append(K1.copy())
        K1_se.append(z.std(0, ddof=1) / math.sqrt(n_paths))
        if layer > 0 and self_interaction:
            per = hessian_contraction(h, c, act, h_prev, D_prev)
            sig_self = per.mean(0)
        else:
            per, sig_self = None, np.zeros(p)
        selfs.append(sig_self)
        if layer == depth:
            break
        M = np.eye(p) + eps * s2 * J
        K1 = M @ K1 + eps * s2 * (0.5 * pack(D2F(Kl, act, VC)) + sig_self)
        src = per if per is not None else np.zeros((n_paths, p))  # + per path D2F(K0)[c0_i c0_i^T] / 2:
        if layer > 0:  # (c = 0 at layer 0)
            Hc = (c0 @ _d2f_bilinear(Kl, act).reshape(p, p * p)).reshape(n_paths, p, p)
            src = src + 0.5 * np.einsum("is,iso->io", c0, Hc)
        z = z @ M.T + eps * s2 * src
        c = c + eps * s2 * (phph - pack(F) + c @ J.T)
        D = eps * s2 * F
        h_prev, D_prev = h, D
        h = h + rng.standard_normal((n_paths, k)) @ psd_sqrt(D).T
    t = np.linspace(0.0, T, depth + 1)
    extra = {"VC": np.stack(VCs), "VGS": np.stack(VGSs), "self": np.stack(selfs),
             "K1_se": np.stack(K1_se), "V4_se": np.stack(V4_se)}
    return ClosureSolution(t, K0, np.stack(V4s), unpack(np.stack(K1s), k), extra)


def solve_sigma_closure(K_in, T: float, sigma_w: float, activation: str, t_eval, n_paths: int = 100_000,
                        refine: int = 8, seed: int = 0, self_interaction: bool = True) -> ClosureSolution:
    """The continuum sigma-kernel closure on a uniform grid ``t_eval`` (from 0 to T): the recursion at
    L_f = refine * (len(t_eval) - 1) and at L_f / 2 layers (independent paths), combined by one
    Richardson step 2 y(L_f) - y(L_f / 2), which removes the O(eps) error. extra["richardson"] holds
    the size of that correction for K1 and V4 (max abs over the grid)."""
    K_in, T, sigma_w, act = _common(K_in, T, sigma_w, activation)
    t_eval = check_t_eval(t_eval, T)
    refine = check_int("refine", refine, 2, 1024)
    if refine % 2:
        raise ValueError(f"refine must be even, got {refine}")
    m = len(t_eval) - 1
    if m < 1 or t_eval[0] != 0.0 or not np.allclose(t_eval, np.linspace(0.0, T, m + 1), rtol=0, atol=1e-12 * T):
        raise ValueError("t_eval must be the uniform grid from 0 to T for the sigma closure")
    fine = sigma_closure_discrete(K_in, m * refine, T, sigma_w, act, n_paths, seed, self_interaction)
    half = sigma_closure_discrete(K_in, m * refine // 2, T, sigma_w, act, n_paths, seed + 1, self_interaction)
    f, h = slice(None, None, refine), slice(None, None, refine // 2)

    def rich(a, b):
        return 2 * a[f] - b[h]

    extra = {key: rich(fine.extra[key], half.extra[key]) for key in ("VC", "VGS", "self")}
    for key in ("K1_se", "V4_se"):
        extra[key] = np.sqrt(4 * fine.extra[key][f] ** 2 + half.extra[key][h] ** 2)
    extra["richardson"] = {"K1": float(np.abs(fine.K1[f] - half.K1[h]).max()),
                           "V4": float(np.abs(fine.V4[f] - half.V4[h]).max())}
    from rgnb.eft.closures.g_only import solve_k0
    return ClosureSolution(t_eval, solve_k0(K_in, T, sigma_w, act, t_eval), rich(fine.V4, half.V4),
                           rich(fine.K1, half.K1), extra)
