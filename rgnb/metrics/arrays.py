"""Input handling of the measures: arrays or tensors as float64 numpy, checked shapes, batched products.

A *representation* is an array ``X`` of shape (..., N, d): N samples (rows) of d features, batched
over any leading axes. A *stream* is a residual stream ``h`` of shape (..., N, T, d): N sequences,
T positions, d channels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rgnb.validate import check_finite_array


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
