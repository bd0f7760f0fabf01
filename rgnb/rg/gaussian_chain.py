"""The 1D Gaussian chain (free field): exact b = 2 decimation, the u map and its fixed points, an exact
sampler and estimator, and the linear-Gaussian optima (fully connected linear DAE, linear RSMI filter,
local linear DAE = block sum).

Weight ``exp(-r/2 sum x_i^2 + K sum x_i x_{i+1} + h sum x_i)``, ``r > 2|K|``. Decimating odd sites:
``K' = K^2/r``, ``r' = r - 2K^2/r``, ``h' = h(1 + 2K/r)``; ``u = 2K/r`` maps to ``u' = u^2/(2 - u^2)``
with fixed points ``u* = 0`` (stable) and ``u* = 1`` (critical, eigenvalue 4). The chain is AR(1)
with lag-1 correlation ``phi``, ``u = 2 phi / (1 + phi^2)``, and decimation is ``phi' = phi^2``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import linalg as _sla
from scipy import signal as _signal

from rgnb.rg.estimators import Fit, jackknife_additive, scalar_or_array
from rgnb.validate import check_finite_array, check_float, check_int, check_seed, check_size


def check_gaussian_chain(r, K, h) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate natural parameters: finite, and ``r > 2|K|`` (normalisable)."""
    r, K, h = check_finite_array("r", r), check_finite_array("K", K), check_finite_array("h", h)
    if not np.all(r > 2 * np.abs(K)):
        raise ValueError(f"Gaussian chain parameters must satisfy r > 2|K| (normalisable), got r={r!r}, K={K!r}")
    return r, K, h


def check_u(u) -> np.ndarray:
    """Validate ``u = 2K/r``: ``|u| <= 1`` (``|u| < 1`` normalisable, ``|u| = 1`` critical)."""
    u = check_finite_array("u", u)
    if not np.all(np.abs(u) <= 1):
        raise ValueError(f"u = 2K/r must satisfy |u| <= 1 (|u| < 1 normalisable, |u| = 1 critical), got {u!r}")
    return u


def gaussian_chain_decimation(r, K, h=0.0):
    """One b = 2 decimation of the Gaussian chain: ``(r, K, h) -> (r', K', h')``, exact.

    ``K' = K^2/r``, ``r' = r - 2K^2/r``, ``h' = h (1 + 2K/r)``. Domain ``r > 2|K|`` (ValueError otherwise).
    """
    r, K, h = check_gaussian_chain(r, K, h)
    r, K, h = np.broadcast_arrays(r, K, h)
    return scalar_or_array(r - 2 * K ** 2 / r), scalar_or_array(K ** 2 / r), scalar_or_array(h * (1 + 2 * K / r))


def gaussian_chain_flow(r, K, h=0.0, n_steps: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trajectory of :func:`gaussian_chain_decimation`: three arrays ``(n_steps + 1, *shape)``."""
    n_steps = check_int("n_steps", n_steps, 0)
    r, K, h = np.broadcast_arrays(*check_gaussian_chain(r, K, h))
    out = [(r.astype(np.float64), K.astype(np.float64), h.astype(np.float64))]
    for _ in range(n_steps):
        out.append(tuple(np.asarray(v) for v in gaussian_chain_decimation(*out[-1])))
    return tuple(np.stack([o[i] for o in out]) for i in range(3))


def u_map(u):
    """``u' = u^2 / (2 - u^2)`` for ``u = 2K/r``, ``|u| <= 1``."""
    u = check_u(u)
    return scalar_or_array(u ** 2 / (2 - u ** 2))


def u_map_derivative(u):
    """``du'/du = 4u / (2 - u^2)^2``; equals 4 at the critical fixed point ``u* = 1`` (``y_t = 2``)."""
    u = check_u(u)
    return scalar_or_array(4 * u / (2 - u ** 2) ** 2)


U_FIXED_POINTS = {"stable": 0.0, "critical": 1.0}


def u_flow(u, n_steps: int = 10) -> np.ndarray:
    """Trajectory of :func:`u_map`: array ``(n_steps + 1, *shape)``."""
    n_steps = check_int("n_steps", n_steps, 0)
    out = [np.asarray(check_u(u), dtype=np.float64)]
    for _ in range(n_steps):
        out.append(np.asarray(u_map(out[-1])))
    return np.stack(out)


def phi_to_u(phi):
    """Lag-1 correlation of the AR(1) form -> ``u = 2 phi / (1 + phi^2)``."""
    phi = check_finite_array("phi", phi)
    return scalar_or_array(2 * phi / (1 + phi ** 2))


def u_to_phi(u):
    """Inverse of :func:`phi_to_u` on ``|u| <= 1``: ``phi = (1 - sqrt(1 - u^2)) / u``, evaluated in the
    cancellation-free form ``u / (1 + sqrt((1 - u)(1 + u)))`` (0 at u = 0, +-1 at u = +-1); relative error
    < 1e-15 against mpmath on the whole domain (``tests/test_rg.py``). Any shape -> same, float64."""
    u = check_u(u)
    return scalar_or_array(u / (1.0 + np.sqrt((1.0 - u) * (1.0 + u))))


def gaussian_chain_ar1(r, K, h=0.0) -> tuple:
    """Natural parameters -> AR(1) form ``(phi, var, mu)``: lag-1 correlation, marginal variance, mean."""
    r, K, h = check_gaussian_chain(r, K, h)
    phi = np.asarray(u_to_phi(2 * K / r))
    s2 = (1 + phi ** 2) / r                    # innovation variance
    var = s2 / (1 - phi ** 2)
    mu = h / (r - 2 * K)
    return scalar_or_array(phi), scalar_or_array(var), scalar_or_array(mu)


def gaussian_chain_natural(phi, var, mu=0.0) -> tuple:
    """AR(1) form ``(phi, var, mu)`` -> natural parameters ``(r, K, h)``; needs ``|phi| < 1``, ``var > 0``."""
    phi, var, mu = check_finite_array("phi", phi), check_finite_array("var", var), check_finite_array("mu", mu)
    if not np.all(var > 0):
        raise ValueError(f"var must be > 0, got {var!r}")
    if not np.all(np.abs(phi) < 1):
        raise ValueError(f"phi must satisfy |phi| < 1, got {phi!r}")
    s2 = var * (1 - phi ** 2)
    r, K = (1 + phi ** 2) / s2, phi / s2
    return scalar_or_array(r), scalar_or_array(K), scalar_or_array(mu * (r - 2 * K))


def gaussian_chain_covariance(phi: float, n: int) -> np.ndarray:
    """Correlation matrix ``phi^|i-j|`` of n consecutive sites of the stationary chain, (n, n) float64."""
    phi, n = check_float("phi", phi, -1.0, 1.0), check_int("n", n, 1)
    check_size("n", n * n, 24)  # the float64 result and its int64 lag matrix
    i = np.arange(n)
    return float(phi) ** np.abs(i[:, None] - i[None, :]).astype(np.float64)


def sample_gaussian_chain(r: float, K: float, h: float, n_chains: int, length: int, seed: int = 0) -> np.ndarray:
    """Exact stationary samples of the infinite Gaussian chain as AR(1), float64 ``(n_chains, length)``."""
    phi, var, mu = gaussian_chain_ar1(r, K, h)
    n_chains, length = check_int("n_chains", n_chains, 1), check_int("length", length, 2)
    seed = check_seed("seed", seed)
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n_chains, length)) * math.sqrt(var * (1 - phi ** 2))
    e[:, 0] *= 1.0 / math.sqrt(1 - phi ** 2)            # stationary start
    return _signal.lfilter([1.0], [1.0, -phi], e, axis=1) + mu


def _gauss_stats(x: np.ndarray) -> np.ndarray:
    """Per-chain sums ``(n_chains, 6)``: n, sum x, sum x^2, n_pairs, sum x_t x_{t+1}, sum (x_t + x_{t+1})."""
    a, b = x[:, :-1], x[:, 1:]
    return np.stack([np.full(x.shape[0], x.shape[1], dtype=np.float64), x.sum(1), (x * x).sum(1),
                     np.full(x.shape[0], a.shape[1], dtype=np.float64), (a * b).sum(1), (a + b).sum(1)], axis=1)


def _gauss_from_stats(st: np.ndarray) -> dict:
    n, s1, s2, npair, s11, sab = st.T
    mu = s1 / n
    c0 = s2 / n - mu ** 2
    c1 = s11 / npair - mu * sab / npair + mu ** 2
    phi = c1 / c0
    s2i = c0 * (1 - phi ** 2)
    r, K = (1 + phi ** 2) / s2i, phi / s2i
    return {"r": r, "K": K, "h": mu * (r - 2 * K), "u": 2 * K / r, "phi": phi, "mu": mu, "var": c0}


def fit_gaussian_chain(x: np.ndarray) -> Fit:
    """Estimate ``(r, K, h)`` (and ``u``, ``phi``, ``mu``, ``var``) of a stationary Gaussian chain.

    Yule-Walker (moment) estimator from pooled sample mean, variance and lag-1 covariance; it equals
    the ML estimate of the AR(1) form up to boundary terms O(1/length). ``x``: ``(n_chains >= 2, length)``.
    Standard errors: delete-one-chain jackknife.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"x must have shape (n_chains >= 2, length >= 2), got {x.shape}")
    units = _gauss_stats(x)
    return jackknife_additive(units.sum(0), units, _gauss_from_stats)


# --------------------------------------------------------------------------------------------- #
# Part B: the closed-form case (linear denoising autoencoder on Gaussian-chain data)
# --------------------------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class LinearOptimum:
    """The optimum of a linear denoising autoencoder ``x_hat = D W (x + sigma eps)`` of rank M.

    ``C`` (N, N) is the data covariance, ``eigvals`` its eigenvalues (descending), ``U`` its
    eigenvectors; the optimal map is ``B* = U_M diag(l / (l + sigma^2)) U_M^T`` and the optimal loss
    per site ``(sum_i l_i - sum_{i <= M} l_i^2 / (l_i + sigma^2)) / N``. Every encoder
    ``W = A U_M^T`` with invertible ``A`` (and decoder ``D = U_M diag(l/(l+s^2)) A^{-1}``) is optimal.
    """

    C: np.ndarray
    eigvals: np.ndarray
    U: np.ndarray
    M: int
    sigma: float
    loss: float

    def encoder(self, A: np.ndarray | None = None) -> np.ndarray:
        """Optimal encoder ``A U_M^T`` (M, N); ``A = I`` is the PCA gauge."""
        A = np.eye(self.M) if A is None else A
        return A @ self.U[:, : self.M].T

    def decoder(self, A: np.ndarray | None = None) -> np.ndarray:
        A = np.eye(self.M) if A is None else A
        l = self.eigvals[: self.M]
        return self.U[:, : self.M] @ np.diag(l / (l + self.sigma ** 2)) @ np.linalg.inv(A)

    def gauge_for_feature_correlation(self, phi_target: float) -> np.ndarray:
        """The gauge ``A`` whose features have correlation matrix ``phi_target^|i-j|`` exactly:
        ``A = R^{1/2} Lambda_M^{-1/2}`` (then ``Cov(W x) = A Lambda_M A^T = R``)."""
        R = gaussian_chain_covariance(phi_target, self.M)
        return np.real(_sla.sqrtm(R)) @ np.diag(self.eigvals[: self.M] ** -0.5)


def linear_dae_loss(W: np.ndarray, D: np.ndarray, C: np.ndarray, sigma: float) -> float:
    """Exact expected loss per site ``E||x - D W (x + sigma eps)||^2 / N`` for zero-mean x with cov C."""
    B = D @ W
    N = C.shape[0]
    return float((np.trace(C) - 2 * np.trace(B @ C) + np.trace(B @ (C + sigma ** 2 * np.eye(N)) @ B.T)) / N)


def linear_dae_optimum(C: np.ndarray, M: int, sigma: float) -> LinearOptimum:
    """Closed-form optimum of the rank-M linear denoising autoencoder (see :class:`LinearOptimum`)."""
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.allclose(C, C.T):
        raise ValueError(f"C must be a symmetric (N, N) matrix, got shape {C.shape}")
    M = check_int("M", M, 1)
    if M > C.shape[0]:
        raise ValueError(f"M must be <= N = {C.shape[0]}, got {M}")
    sigma = check_float("sigma", sigma, 0.0)
    w, U = np.linalg.eigh(C)
    w, U = w[::-1], U[:, ::-1]
    loss = float((w.sum() - np.sum(w[:M] ** 2 / (w[:M] + sigma ** 2))) / C.shape[0])
    return LinearOptimum(C, w, U, M, float(sigma), loss)


def feature_u_exact(W: np.ndarray, C: np.ndarray) -> float:
    """The fitted ``u`` of features ``z = W x`` on exact moments (per-unit standardised, pooled lag 1)."""
    S = W @ C @ W.T
    d = np.sqrt(np.diag(S))
    R = S / np.outer(d, d)
    phi = float(np.mean(np.diag(R, 1)))
    return 2 * phi / (1 + phi ** 2)


def rsmi_linear_optimum(phi: float, block: int, buffer: int, env: int) -> tuple[np.ndarray, float, float]:
    """Closed-form optimal linear RSMI filter on a Gaussian chain with lag-1 correlation ``phi``.

    Maximises ``R^2`` of ``w . x_V`` (block of ``block`` sites) given its environment (``env`` sites
    on each side beyond ``buffer`` sites): the top generalised eigenvector of
    ``(C_Ve C_ee^{-1} C_eV, C_VV)``. Returns ``(w, R2, u_out)`` with ``u_out`` the fitted ``u`` of the
    coarse chain ``h_j = w . x_{V_j}`` (exact moments).
    """
    block, buffer, env = check_int("block", block, 1, 64), check_int("buffer", buffer, 0, 64), check_int("env", env, 1, 64)
    n = 2 * (env + buffer) + block
    C = gaussian_chain_covariance(phi, n)
    V = np.arange(env + buffer, env + buffer + block)
    E = np.r_[np.arange(env), np.arange(n - env, n)]
    Cve = C[np.ix_(V, E)]
    A = Cve @ np.linalg.solve(C[np.ix_(E, E)], Cve.T)
    vals, vecs = _sla.eigh(A, C[np.ix_(V, V)])
    w = vecs[:, -1]
    w = w / np.abs(w).sum() * np.sign(w.sum() if abs(w.sum()) > 1e-12 else 1.0)
    Cfull = gaussian_chain_covariance(phi, 2 * block)
    var = w @ Cfull[:block, :block] @ w
    cov = w @ Cfull[:block, block:] @ w
    p = cov / var
    return w, float(vals[-1]), float(2 * p / (1 + p ** 2))


def gaussian_chain_lag1_after_decimation(phi: float, n_steps: int) -> np.ndarray:
    """Lag-1 Pearson correlation of the chain after ``l = 0..n_steps`` decimations: ``phi^(2^l)``, (n_steps + 1,)."""
    phi = check_float("phi", phi, -1.0, 1.0, low_open=True, high_open=True)
    n_steps = check_int("n_steps", n_steps, 0, 64)
    return np.array([phi ** (2 ** l) for l in range(n_steps + 1)])


def gaussian_chain_lag1_after_block_sums(phi: float, n_steps: int) -> np.ndarray:
    """Lag-1 Pearson correlation of neighbouring block sums of ``2^l`` sites, ``l = 0..n_steps``, exactly.

    The local linear denoising optimum (see :func:`local_linear_dae_optimum`) computes the pair sum at
    every layer, so layer ``l`` holds sums of ``2^l`` consecutive sites: ``corr = S(2^l) / V(2^l)`` with
    ``V(n) = sum_{|i-j|<n} (n - |i-j|) phi^|i-j|`` and ``S(n) = sum_{i<n<=j<2n} phi^(j-i)``.
    """
    phi = check_float("phi", phi, -1.0, 1.0, low_open=True, high_open=True)
    n_steps = check_int("n_steps", n_steps, 0, 20)
    out = []
    for l in range(n_steps + 1):
        n = 2 ** l
        d = np.arange(1, n)
        V = n + 2 * np.sum((n - d) * phi ** d)
        d2 = np.arange(1, 2 * n)
        S = np.sum(np.minimum(d2, 2 * n - d2) * phi ** d2)
        out.append(S / V)
    return np.array(out)


def local_linear_dae_optimum(rho: float, sigma: float) -> tuple[np.ndarray, float]:
    """Optimal encoder direction of a one-unit linear DAE on a pair ``(y1, y2)`` of equal variance and
    correlation ``rho`` with noise ``sigma`` (in units of the sd): the top eigenvector of the pair
    covariance, ``(1, 1)/sqrt 2`` for ``rho > 0`` (the block sum). Returns ``(w, loss per unit)``."""
    rho = check_float("rho", rho, -1.0, 1.0, low_open=True, high_open=True)
    sigma = check_float("sigma", sigma, 0.0)
    C = np.array([[1.0, rho], [rho, 1.0]])
    opt = linear_dae_optimum(C, 1, sigma)
    w = opt.U[:, 0] * np.sign(opt.U[:, 0].sum() if abs(opt.U[:, 0].sum()) > 1e-12 else 1.0)
    return w, opt.loss


def fc_dae_gauge_scan(phi: float, n_sites: int, n_features: int, sigma: float,
                      targets: np.ndarray) -> dict:
    """The ill-posed case: the optimal fully connected linear DAE on a Gaussian chain, in many gauges.

    For each target correlation ``rho`` the gauge ``A`` gives optimal features with correlation
    ``rho^|i-j|``. Returns ``{"loss_opt", "u" (T,), "excess" (T,) relative excess loss, "u_pca",
    "u_gauge05", "u_gauge05_permuted"}``: the fitted u of the gauge ``rho = 0.5``, and of the same
    features listed in the order 0, M/2, 1, M/2 + 1, ... (a relabelling that keeps the loss).
    """
    C = gaussian_chain_covariance(phi, check_int("n_sites", n_sites, 2, 4096))
    opt = linear_dae_optimum(C, n_features, sigma)
    us, ex = [], []
    for rho in check_finite_array("targets", targets, ndim=1, low=-0.99, high=0.99):
        A = opt.gauge_for_feature_correlation(float(rho))
        us.append(feature_u_exact(opt.encoder(A), C))
        ex.append(linear_dae_loss(opt.encoder(A), opt.decoder(A), C, sigma) / opt.loss - 1)
    A = opt.gauge_for_feature_correlation(0.5)
    half = n_features // 2
    perm = np.arange(2 * half).reshape(2, half).T.ravel()       # 0, M/2, 1, M/2 + 1, ...: same units, new order
    return {"loss_opt": opt.loss, "u": np.array(us), "excess": np.array(ex),
            "u_pca": feature_u_exact(opt.encoder(), C),
            "u_gauge05": feature_u_exact(opt.encoder(A), C),
            "u_gauge05_permuted": feature_u_exact(opt.encoder(A)[perm], C)}
