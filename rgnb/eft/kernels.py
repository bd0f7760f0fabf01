"""Kernels as arrays: packing of symmetric k x k matrices, the chapter's inputs, Wishart covariances.

Symmetric k x k matrices are *packed* into their p = k(k+1)/2 upper-triangular entries (order of
``np.triu_indices(k)``); derivatives with respect to K are taken in packed coordinates (moving
K_ab moves K_ba with it), and covariances V of kernels are p x p matrices of ``n Cov`` of packed
entries.
"""

from __future__ import annotations

import numpy as np

from rgnb.validate import check_finite_array, check_float, check_int

__all__ = ["n_packed", "pack", "unpack", "pair_labels", "wishart", "four_term", "check_kernel", "check_inputs",
           "input_kernel", "default_inputs", "single_input", "two_inputs"]


def n_packed(k: int) -> int:
    """p = k (k + 1) / 2, the number of packed entries of a k x k symmetric matrix."""
    k = check_int("k", k, 1)
    return k * (k + 1) // 2


def pack(K: np.ndarray) -> np.ndarray:
    """(..., k, k) symmetric -> (..., p) upper-triangular entries."""
    k = K.shape[-1]
    i, j = np.triu_indices(k)
    return K[..., i, j]


def unpack(v: np.ndarray, k: int) -> np.ndarray:
    """(..., p) -> (..., k, k) symmetric."""
    i, j = np.triu_indices(k)
    out = np.zeros(v.shape[:-1] + (k, k), dtype=np.float64)
    out[..., i, j] = v
    out[..., j, i] = v
    return out


def pair_labels(k: int) -> list[str]:
    """Labels "11", "12", ... of the packed entries."""
    i, j = np.triu_indices(k)
    return [f"{a + 1}{b + 1}" for a, b in zip(i, j)]


def wishart(K: np.ndarray) -> np.ndarray:
    """n Cov of the packed entries of a Wishart kernel with mean K: K_ac K_bd + K_ad K_bc, (..., p, p)."""
    i, j = np.triu_indices(K.shape[-1])
    a, b = i[:, None], j[:, None]
    c, d = i[None, :], j[None, :]
    return K[..., a, c] * K[..., b, d] + K[..., a, d] * K[..., b, c]


def four_term(K: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Q_{ab,cd} = K_ac F_bd + K_ad F_bc + K_bc F_ad + K_bd F_ac on packed indices, (..., p, p)."""
    i, j = np.triu_indices(K.shape[-1])
    a, b = i[:, None], j[:, None]
    c, d = i[None, :], j[None, :]
    return (K[..., a, c] * F[..., b, d] + K[..., a, d] * F[..., b, c]
            + K[..., b, c] * F[..., a, d] + K[..., b, d] * F[..., a, c])


def check_kernel(K, name: str = "K_in") -> np.ndarray:
    """A (k, k) symmetric positive-definite float64 kernel, else ValueError naming ``name``."""
    K = check_finite_array(name, K, ndim=2)
    if K.shape[0] != K.shape[1] or K.shape[0] < 1:
        raise ValueError(f"{name} must be a square (k, k) matrix, got shape {K.shape}")
    if not np.allclose(K, K.T, rtol=1e-12, atol=1e-14 * np.abs(K).max()):
        raise ValueError(f"{name} must be symmetric")
    ev = np.linalg.eigvalsh(K)
    if ev.min() <= 1e-10 * max(ev.max(), 1e-300):
        raise ValueError(f"{name} must be positive definite (PSD with full rank), min eigenvalue {ev.min():.3g}")
    return K


def check_inputs(X, name: str = "X") -> np.ndarray:
    """A (k, n0) float64 array of k >= 1 finite inputs, else ValueError naming ``name``."""
    X = check_finite_array(name, X, ndim=2)
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must be a (k, n0) array of k >= 1 inputs, got shape {X.shape}")
    return X


def input_kernel(X, sigma_0: float = 1.0) -> np.ndarray:
    """K0(0) = sigma_0^2 X X^T / n0, shape (k, k)."""
    X = check_inputs(X)
    sigma_0 = check_float("sigma_0", sigma_0, 0.0, 1e3, low_open=True)
    return sigma_0 ** 2 * X @ X.T / X.shape[1]


def _inputs_for(K: np.ndarray) -> np.ndarray:
    k = K.shape[0]
    X = np.zeros((k, 4))
    X[:, :k] = np.linalg.cholesky(K) * 2.0  # X X^T / n0 = K with n0 = 4
    return X


def default_inputs() -> np.ndarray:
    """The chapter's three inputs in R^4 (our choice), shape (3, 4), with input kernel (sigma_0 = 1)
    K_in = [[1, 0.6, 0], [0.6, 1.2, -0.4], [0, -0.4, 0.8]]: angles about 57 deg (x1, x2),
    90 deg (x1, x3) and 114 deg (x2, x3), unequal norms."""
    return _inputs_for(np.array([[1.0, 0.6, 0.0], [0.6, 1.2, -0.4], [0.0, -0.4, 0.8]]))


def two_inputs() -> np.ndarray:
    """Two inputs in R^4 with K_in = [[1, 0.6], [0.6, 1.2]] (the first pair of :func:`default_inputs`)."""
    return _inputs_for(np.array([[1.0, 0.6], [0.6, 1.2]]))


def single_input() -> np.ndarray:
    """One input in R^4 with K_in = [[1]], shape (1, 4)."""
    return _inputs_for(np.array([[1.0]]))


def psd_sqrt(K: np.ndarray) -> np.ndarray:
    """A square root ``A`` with ``A A^T = K`` of symmetric PSD matrices (..., k, k), negative eigenvalues clipped at 0."""
    lam, U = np.linalg.eigh(K)
    return U * np.sqrt(np.maximum(lam, 0.0))[..., None, :]
