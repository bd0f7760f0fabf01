"""Transport surgery: the G-only V4 residual attributed term by term.

Given h^l, G^{l+1} = G + sqrt(eps) s X + eps s^2 Y with E[X | h] = 0, E[Y | h] = S, n Cov(X | h) = Q(G, S),
n Cov(Y | h) = W(S) and Cov(X, Y | h) = 0 (s = sigma_w; Q the four-term product, W the Wishart form of
:mod:`rgnb.eft.kernels`). The law of total covariance gives, exactly at any width n,

  V^{l+1} = V^l + eps s^2 (T^l + T^l^T) + eps^2 s^4 n Cov(S^l)  +  eps s^2 E Q(G^l, S^l) + eps^2 s^4 E W(S^l),
            ---------------- transport -----------------------     ------------- source ------------------

with V = n Cov(G) and the *transport* T = n Cov(S, G) (S index first). The G-only closure replaces the
transport by J V (and n Cov(S) by J V J^T, J = DF(K0)) and the source by Q(K0, F(K0)) + eps s^2 W(F(K0)).
The surgery integrates the same recursion with one of the two replaced by its Monte Carlo value:

- ``transport``: Monte Carlo transport, G-only source; its residual is the source's error alone;
- ``source``: G-only transport (J V on the surgery's own V), Monte Carlo source; the transport's error alone;
- ``both``: both Monte Carlo: the identity itself, whose residual is noise (a check of the bookkeeping).

All of it per batch of networks (the sampler's ``n_groups``), so a jackknife over batches gives standard
errors of anything computed from the residuals, extrapolations in eps included.
"""

from __future__ import annotations

import numpy as np

from rgnb.eft.closures import g_only_discrete, k0_discrete
from rgnb.eft.closures.g_only import local_derivatives
from rgnb.eft.gaussian import get_activation
from rgnb.eft.kernels import four_term, n_packed, unpack, wishart
from rgnb.eft.sampler import KernelMoments

__all__ = ["SURGERIES", "RESIDUALS", "expected_four_term", "surgery_residuals"]

#: The surgeries (module doc).
SURGERIES = ("transport", "source", "both")
#: The residuals :func:`surgery_residuals` returns: the G-only closure's and each surgery's.
RESIDUALS = ("gonly",) + SURGERIES


def _packed_index(k: int) -> np.ndarray:
    """(k, k) -> index of the packed entry holding (a, b)."""
    i, j = np.triu_indices(k)
    idx = np.empty((k, k), dtype=np.int64)
    idx[i, j] = np.arange(len(i))
    idx[j, i] = np.arange(len(i))
    return idx


def expected_four_term(mean_a: np.ndarray, mean_b: np.ndarray, cov_ab: np.ndarray, wishart_form: bool = False
                       ) -> np.ndarray:
    """E[Q(A, B)] of random symmetric kernels from their means (..., k, k) and the covariance of their packed
    entries cov_ab[..., r, s] = Cov(A_r, B_s) (..., p, p): Q(E A, E B) plus the covariance terms, (..., p, p).
    ``wishart_form``: E[W(A)] with W(A)_{ab,cd} = A_ac A_bd + A_ad A_bc instead (``mean_b`` unused)."""
    k = mean_a.shape[-1]
    idx = _packed_index(k)
    i, j = np.triu_indices(k)
    a, b, c, d = i[:, None], j[:, None], i[None, :], j[None, :]

    def cov(x, y, u, v):  # Cov(A_xy, B_uv)
        return cov_ab[..., idx[x, y], idx[u, v]]

    if wishart_form:
        return wishart(mean_a) + cov(a, c, b, d) + cov(a, d, b, c)
    return (four_term(mean_a, mean_b) + cov(a, c, b, d) + cov(a, d, b, c) + cov(b, c, a, d) + cov(b, d, a, c))


def surgery_residuals(mom: KernelMoments, K_in: np.ndarray, sigma_w: float, activation: str
                      ) -> dict[str, np.ndarray]:
    """V_MC - V_X per batch of networks for X in :data:`RESIDUALS` (module doc): each (m, L+1, p, p), m the
    number of batches, on the networks' own depth step eps = T / L."""
    act = get_activation(activation)
    L, T, n, k = mom.depth, mom.T, mom.width, mom.k
    p = n_packed(k)
    eps, s2 = T / L, sigma_w ** 2
    G, S = slice(0, p), slice(p, 2 * p)
    mean, cov = mom.group_mean, mom.group_cov                     # (m, L+1, 3p), (m, L+1, 3p, 3p)
    V_mc = n * cov[..., G, G]
    transport = n * cov[..., S, G]
    ncov_s = n * cov[..., S, S]
    mG, mS = unpack(mean[..., G], k), unpack(mean[..., S], k)
    source = expected_four_term(mG, mS, cov[..., G, S]) + eps * s2 * expected_four_term(mS, mS, cov[..., S, S],
                                                                                         wishart_form=True)
    K0 = k0_discrete(K_in, L, T, sigma_w, act)
    m = V_mc.shape[0]
    V0 = np.broadcast_to(wishart(K0[0]), (m, p, p))
    V = {"transport": V0.copy(), "source": V0.copy(), "both": V0.copy()}
    out = {x: np.zeros_like(V_mc) for x in SURGERIES}
    for layer in range(L + 1):
        for x in SURGERIES:
            out[x][:, layer] = V_mc[:, layer] - V[x]
        if layer == L:
            break
        F = act.F(K0[layer])
        J = local_derivatives(K0[layer], act)[0]
        M = np.eye(p) + eps * s2 * J
        src_g = eps * s2 * (four_term(K0[layer], F) + eps * s2 * wishart(F))
        tr = transport[:, layer]
        tr_mc = eps * s2 * (tr + np.swapaxes(tr, -1, -2) + eps * s2 * ncov_s[:, layer])
        src_mc = eps * s2 * source[:, layer]
        V["transport"] = V["transport"] + tr_mc + src_g
        V["source"] = M @ V["source"] @ M.T + src_mc
        V["both"] = V["both"] + tr_mc + src_mc
    out["gonly"] = V_mc - g_only_discrete(K_in, L, T, sigma_w, act).V4[None]
    return out
