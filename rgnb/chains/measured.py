"""Correlations measured on sampled sequences, with standard errors over sequences."""

from __future__ import annotations

import math

import numpy as np
import torch

from rgnb.chains.eigenspace import slow_eigenspace
from rgnb.stats import Interval
from rgnb.validate import check_int


def autocorrelation(tokens: torch.Tensor, observable: np.ndarray, max_lag: int,
                    mean: float = 0.0, variance: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelation of ``f(x_t)`` at lags 0..max_lag with its standard error over sequences.

    ``tokens`` (n, T); ``observable`` (V,); the known stationary ``mean`` and ``variance`` of ``f``
    are used (no plug-in bias). Returns (estimate, standard error), each shape (max_lag + 1,).
    """
    n, length = tokens.shape
    max_lag = check_int("max_lag", max_lag, 0, length - 1)
    f = torch.as_tensor(observable, dtype=torch.float64, device=tokens.device)[tokens] - mean
    per_seq = torch.stack([(f[:, : length - k] * f[:, k:]).mean(1) for k in range(max_lag + 1)], 1) / variance
    est = per_seq.mean(0).cpu().numpy()
    se = (per_seq.std(0, unbiased=True) / math.sqrt(n)).cpu().numpy()
    return est, se


def onehot_correlation(tokens: torch.Tensor, vocab_size: int, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Empirical counterpart of :func:`onehot_correlation_exact` for a uniform stationary law.

    Returns (estimate, standard error over sequences), each shape (max_lag + 1,).
    """
    n, length = tokens.shape
    max_lag = check_int("max_lag", max_lag, 0, length - 1)
    norm = 1.0 - 1.0 / vocab_size
    per_seq = torch.stack([(tokens[:, : length - k] == tokens[:, k:]).double().mean(1) for k in range(max_lag + 1)],
                          1)
    per_seq = (per_seq - 1.0 / vocab_size) / norm
    return per_seq.mean(0).cpu().numpy(), (per_seq.std(0, unbiased=True) / math.sqrt(n)).cpu().numpy()


def empirical_mutual_information(tokens: torch.Tensor, vocab_size: int, lags: np.ndarray) -> np.ndarray:
    """Plug-in estimate of ``I(x_t; x_{t+k})`` in nats from all position pairs at each lag."""
    out = []
    for k in np.asarray(lags, dtype=int):
        a, b = tokens[:, : tokens.shape[1] - k].reshape(-1), tokens[:, k:].reshape(-1)
        joint = torch.bincount(a * vocab_size + b, minlength=vocab_size**2).double().reshape(vocab_size, vocab_size)
        joint /= joint.sum()
        pa, pb = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
        ratio = torch.where(joint > 0, joint / (pa * pb), torch.ones_like(joint))
        out.append(float((joint * torch.log(ratio)).sum()))
    return np.asarray(out)


def slow_mode_autocorrelation(tokens: torch.Tensor, P: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelation of the whole ``lambda_2`` eigenspace at lags 0..max_lag, with standard errors.

    ``C(k) = mean_t K(x_t, x_{t+k}) / d`` with ``K`` the eigenspace's kernel and ``d`` its dimension
    (:func:`slow_eigenspace`): the average of ``Corr(f_i(x_t), f_i(x_{t+k}))`` over a
    ``pi``-orthonormal basis ``f_i``, so it equals ``lambda_2^k`` exactly for a reversible chain and
    depends on no choice of basis. ``tokens`` (n, T). Returns (estimate, standard error over
    sequences), each shape (max_lag + 1,).
    """
    n, length = tokens.shape
    max_lag = check_int("max_lag", max_lag, 0, length - 1)
    space = slow_eigenspace(P)
    V = space.kernel.shape[0]
    flat = torch.as_tensor(space.kernel.reshape(-1) / space.multiplicity, dtype=torch.float64, device=tokens.device)
    per_seq = torch.stack([flat[tokens[:, : length - k] * V + tokens[:, k:]].mean(1) for k in range(max_lag + 1)], 1)
    est = per_seq.mean(0).cpu().numpy()
    se = (per_seq.std(0, unbiased=True) / math.sqrt(n)).cpu().numpy()
    return est, se


def measured_correlation_length(tokens: torch.Tensor, P: np.ndarray) -> Interval:
    """Correlation length measured on samples, ``-1 / ln C(1)``, with a delta-method 95% CI.

    ``C(1)`` is the lag-1 autocorrelation of the slow eigenspace (:func:`slow_mode_autocorrelation`,
    basis-free), for which ``C(k) = lambda_2^k`` exactly, so one lag suffices and no lag is selected
    by looking at the data.
    """
    est, se = slow_mode_autocorrelation(tokens, P, 1)
    lam, lam_se = float(est[1]), float(se[1])
    if not 0.0 < lam < 1.0:
        raise ValueError(f"the measured lag-1 autocorrelation {lam:.3g} is outside (0, 1): sample more sequences")
    xi = -1.0 / math.log(lam)
    xi_se = lam_se / (lam * math.log(lam) ** 2)
    return Interval(xi, xi - 1.96 * xi_se, xi + 1.96 * xi_se)
