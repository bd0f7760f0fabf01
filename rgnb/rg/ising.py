"""The 1D Ising chain: exact b = 2 decimation, its flow, an exact sampler, the ML estimator, and the
exact RSMI optimum of a two-spin block (by enumeration).

Weight ``exp(K sum s_i s_{i+1} + h sum s_i)``, ``s_i = +-1``. Decimating every other spin gives
``K' = 1/4 ln[cosh(2K+h) cosh(2K-h) / cosh^2 h]``, ``h' = h + 1/2 ln[cosh(2K+h) / cosh(2K-h)]``;
at ``h = 0``, ``tanh K' = tanh^2 K``, fixed points ``K* = 0`` (stable) and ``infinity``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from rgnb.rg.estimators import Fit, jackknife_additive, scalar_or_array
from rgnb.validate import check_finite_array, check_float, check_int, check_seed, check_size


def _logcosh(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    return x + np.log1p(np.exp(-2 * x)) - math.log(2.0)


def ising_decimation(K, h=0.0):
    """One b = 2 decimation of the 1D Ising chain: ``(K, h) -> (K', h')`` (exact, vectorised).

    ``K`` and ``h`` are finite reals (arrays broadcast). Returns floats for scalar input.
    """
    K, h = np.broadcast_arrays(check_finite_array("K", K), check_finite_array("h", h))
    Kp = 0.25 * (_logcosh(2 * K + h) + _logcosh(2 * K - h) - 2 * _logcosh(h))
    hp = h + 0.5 * (_logcosh(2 * K + h) - _logcosh(2 * K - h))
    return scalar_or_array(Kp), scalar_or_array(hp)


def ising_flow(K, h=0.0, n_steps: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Trajectory of :func:`ising_decimation`: arrays ``(n_steps + 1, *shape)`` of K and h."""
    n_steps = check_int("n_steps", n_steps, 0)
    K, h = np.broadcast_arrays(check_finite_array("K", K), check_finite_array("h", h))
    Ks, hs = [K.astype(np.float64)], [h.astype(np.float64)]
    for _ in range(n_steps):
        k, hh = ising_decimation(Ks[-1], hs[-1])
        Ks.append(np.asarray(k)), hs.append(np.asarray(hh))
    return np.stack(Ks), np.stack(hs)


def ising_correlation_length(K) -> np.ndarray:
    """``xi = -1 / ln tanh K`` (sites) for ``K > 0`` at ``h = 0``."""
    K = check_finite_array("K", K)
    if np.any(K <= 0):
        raise ValueError(f"K must be > 0, got {K!r}")
    return scalar_or_array(-1.0 / np.log(np.tanh(K)))


def ising_magnetisation(K, h) -> np.ndarray:
    """Infinite-chain magnetisation ``sinh h / sqrt(sinh^2 h + exp(-4K))``."""
    K, h = check_finite_array("K", K), check_finite_array("h", h)
    return scalar_or_array(np.sinh(h) / np.sqrt(np.sinh(h) ** 2 + np.exp(-4 * K)))


def sample_ising_chain(K: float, h: float, n_chains: int, length: int, seed: int = 0) -> np.ndarray:
    """Exact stationary samples of the infinite 1D Ising chain, int8 array ``(n_chains, length)`` of +-1.

    The chain is the Markov chain ``P(s -> s') = T(s, s') psi(s') / (lambda psi(s))`` of the transfer
    matrix ``T(s, s') = exp(K s s' + h (s + s') / 2)`` with Perron vector ``psi``; it starts from its
    stationary law ``pi ~ psi^2``. Vectorised over chains (one loop over sites).
    """
    K, h = check_float("K", K, -20, 20), check_float("h", h, -20, 20)
    n_chains, length = check_int("n_chains", n_chains, 1), check_int("length", length, 2)
    check_size("n_chains * length", n_chains * length, 10)  # uniforms (8 B), states (1 B), output (1 B)
    seed = check_seed("seed", seed)
    T = np.array([[math.exp(K + h), math.exp(-K)], [math.exp(-K), math.exp(K - h)]])  # index 0 = +1
    w, V = np.linalg.eigh(T)
    lam, psi = w[-1], np.abs(V[:, -1])
    P = T * psi[None, :] / (lam * psi[:, None])
    pi = psi ** 2 / np.sum(psi ** 2)
    rng = np.random.default_rng(seed)
    U = rng.random((length, n_chains))
    up = np.empty((length, n_chains), dtype=bool)
    up[0] = U[0] < pi[0]
    stay_up, go_up = P[0, 0], P[1, 0]
    for t in range(1, length):
        up[t] = U[t] < np.where(up[t - 1], stay_up, go_up)
    return np.where(up.T, 1, -1).astype(np.int8)


def _ising_stats(s: np.ndarray) -> np.ndarray:
    """Per-chain counts ``(n_chains, 5)``: n_pairs, n_++, n_--, n_sites, n_up."""
    a, b = s[:, :-1], s[:, 1:]
    return np.stack([np.full(s.shape[0], a.shape[1], dtype=np.float64),
                     np.sum((a > 0) & (b > 0), axis=1, dtype=np.float64),
                     np.sum((a < 0) & (b < 0), axis=1, dtype=np.float64),
                     np.full(s.shape[0], s.shape[1], dtype=np.float64),
                     np.sum(s > 0, axis=1, dtype=np.float64)], axis=1)


def _ising_from_stats(st: np.ndarray) -> dict:
    npair, npp, nmm, nsite, nup = st.T
    nmix = (npair - npp - nmm) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        K = 0.25 * np.log(npp * nmm / nmix ** 2)
        m = 2 * nup / nsite - 1
        h = np.arcsinh(m * np.exp(-2 * K) / np.sqrt(1 - m ** 2))
    return {"K": K, "h": h, "m": m}


def fit_ising_chain(s: np.ndarray) -> Fit:
    """Estimate ``K`` and ``h`` of a stationary Ising chain from samples ``(n_chains, length)`` of +-1.

    ``K = 1/4 ln(p_{++} p_{--} / p_{+-}^2)`` from pooled nearest-neighbour pair frequencies (the ML
    estimate of the pair law), ``h`` by inverting the infinite-chain magnetisation at that ``K``.
    Standard errors: delete-one-chain jackknife (needs >= 2 chains).
    """
    s = np.asarray(s)
    if s.ndim != 2 or s.shape[0] < 2 or s.shape[1] < 2:
        raise ValueError(f"s must have shape (n_chains >= 2, length >= 2), got {s.shape}")
    units = _ising_stats(s)
    return jackknife_additive(units.sum(0), units, _ising_from_stats)


# --------------------------------------------------------------------------------------------- #
# Exact RSMI on the Ising chain (h = 0): the coarse variable of a two-spin block that keeps the most
# information about its environment, by enumeration
# --------------------------------------------------------------------------------------------- #
#: The 14 non-constant binary coarse variables H = f(s1, s2) of a two-spin block, as tables
#: (f(+,+), f(+,-), f(-,+), f(-,-)), in a fixed order.
BLOCK_CONFIGS = ((1, 1), (1, -1), (-1, 1), (-1, -1))
COARSE_FUNCTIONS = tuple(t for t in itertools.product((1, -1), repeat=4) if len(set(t)) == 2)


def _mutual_information(p_joint: np.ndarray) -> float:
    """I(A; B) in nats of a joint table ``p_joint`` (A on axis 0, B flattened over the other axes)."""
    p = p_joint.reshape(p_joint.shape[0], -1)
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / (pa @ pb)[mask])))


def _window_probability(s: tuple, t: float) -> float:
    """Probability of a window ``s`` of the stationary h = 0 chain: ``1/2 prod (1 + s_i s_{i+1} t) / 2``."""
    p = 0.5
    for a, b in zip(s[:-1], s[1:]):
        p *= (1 + a * b * t) / 2
    return p


def rsmi_information(f: tuple, K: float, buffer: int, env: int) -> float:
    """``I(H; E)`` (nats) for the coarse variable ``H = f(s1, s2)`` of a two-spin block, exactly.

    The environment ``E`` is ``env`` spins on each side beyond ``buffer`` spins. By the Markov
    property ``E`` acts on the block only through its innermost spins ``a`` (left) and ``c`` (right),
    with ``P(a | s1) = (1 + a s1 tau) / 2``, ``tau = tanh(K)^(buffer + 1)``, so
    ``I(H; E) = I(H; a, c)`` (checked against brute-force enumeration in the tests).
    """
    K = check_float("K", K, 0.0, 20.0, low_open=True)
    buffer, env = check_int("buffer", buffer, 0, 8), check_int("env", env, 1, 8)
    t = math.tanh(K)
    tau = t ** (buffer + 1)
    fmap = dict(zip(BLOCK_CONFIGS, f))
    p = np.zeros((2, 2, 2))                        # H (+, -), a, c
    for (s1, s2), (ia, a), (ic, c) in itertools.product(BLOCK_CONFIGS, enumerate((1, -1)), enumerate((1, -1))):
        w = 0.5 * (1 + s1 * s2 * t) / 2 * (1 + a * s1 * tau) / 2 * (1 + c * s2 * tau) / 2
        p[0 if fmap[(s1, s2)] == 1 else 1, ia, ic] += w
    return _mutual_information(p)


def rsmi_information_brute_force(f: tuple, K: float, buffer: int, env: int) -> float:
    """``I(H; E)`` by enumerating all ``2^(2 (env + buffer) + 2)`` windows (the definition; slow)."""
    n = 2 * (env + buffer) + 2
    if n > 16:
        raise ValueError(f"brute force enumerates 2^{n} windows; need 2 (env + buffer) + 2 <= 16")
    t = math.tanh(check_float("K", K, 0.0, 20.0, low_open=True))
    fmap = dict(zip(BLOCK_CONFIGS, f))
    left, right = range(env), range(n - env, n)
    i1 = env + buffer
    p = np.zeros((2,) + (2,) * (2 * env))
    for s in itertools.product((1, -1), repeat=n):
        h = fmap[(s[i1], s[i1 + 1])]
        e_idx = tuple(0 if s[i] == 1 else 1 for i in (*left, *right))
        p[(0 if h == 1 else 1,) + e_idx] += _window_probability(s, t)
    return _mutual_information(p)


def population_rank_correlation(v1: np.ndarray, v2: np.ndarray, p: np.ndarray) -> float:
    """Population Spearman correlation (mid-rank transform) of two variables with the same marginal,
    given as values ``v1, v2`` on atoms with probabilities ``p``."""
    vals = np.concatenate([v1, v2])
    probs = np.concatenate([p, p]) / 2
    def G(v):
        return np.array([probs[vals < x].sum() + probs[vals == x].sum() / 2 for x in v])
    g1, g2 = G(v1), G(v2)
    m1, m2 = np.sum(p * g1), np.sum(p * g2)
    cov = np.sum(p * (g1 - m1) * (g2 - m2))
    v = math.sqrt(np.sum(p * (g1 - m1) ** 2) * np.sum(p * (g2 - m2) ** 2))
    return float(cov / v) if v > 0 else 0.0


def coarse_rank_correlation(f, K: float) -> float:
    """Exact lag-1 rank correlation of the coarse chain ``H_j = f(s_{2j}, s_{2j+1})`` (h = 0).

    ``f`` is a table over :data:`BLOCK_CONFIGS` (any real values: e.g. ``(2, 0, 0, -2)`` is the block sum).
    """
    t = math.tanh(check_float("K", K, 0.0, 20.0, low_open=True))
    fmap = dict(zip(BLOCK_CONFIGS, f))
    windows = list(itertools.product((1, -1), repeat=4))
    p = np.array([_window_probability(s, t) for s in windows])
    v1 = np.array([fmap[s[:2]] for s in windows], dtype=float)
    v2 = np.array([fmap[s[2:]] for s in windows], dtype=float)
    return population_rank_correlation(v1, v2, p)


@dataclasses.dataclass(frozen=True)
class RSMIOptimum:
    """The exact RSMI optimum over binary coarse variables of a two-spin block (h = 0)."""

    K: float
    buffer: int
    env: int
    information: dict          # f -> I(H; E) in nats, for every f in COARSE_FUNCTIONS
    optimal: tuple             # the maximisers (ties within 1e-12), a tuple of tables
    theta_optimal: float       # lag-1 rank correlation of the coarse chain when every block uses an optimal f
    theta_decimation: float    # tanh(K)^2, the decimation image
    theta_block_sum: float     # lag-1 rank correlation of the block sum s1 + s2


def rsmi_ising_optimum(K: float, buffer: int = 1, env: int = 2) -> RSMIOptimum:
    """Enumerate every binary coarse variable of a two-spin block, keep the maximisers of ``I(H; E)``,
    and compute the coupling (lag-1 rank correlation) they induce on the coarse chain."""
    info = {f: rsmi_information(f, K, buffer, env) for f in COARSE_FUNCTIONS}
    best = max(info.values())
    optimal = tuple(f for f, i in info.items() if i > best - 1e-12)
    thetas = {round(abs(coarse_rank_correlation(f, K)), 12) for f in optimal}
    if len(thetas) != 1:
        raise RuntimeError(f"optimal coarse variables induce different couplings: {thetas}")
    return RSMIOptimum(float(K), buffer, env, info, optimal, thetas.pop(), math.tanh(K) ** 2,
                       abs(coarse_rank_correlation((2, 0, 0, -2), K)))
