"""Stationary sequences of a chain, drawn by inverse CDF, vectorised over sequences, on any torch device."""

from __future__ import annotations

import numpy as np
import torch

from rgnb.chains.families import MAX_LENGTH, MAX_SEQUENCES, _check_transition, check_stationary_law, stationary
from rgnb.profiles import resolve_device
from rgnb.validate import check_int, check_size


def _device(device, generator: torch.Generator | None) -> torch.device:
    """The device to sample on: ``device`` through ``resolve_device``, else the generator's, else the CPU."""
    if device is not None:
        return resolve_device(device)
    return generator.device if generator is not None else torch.device("cpu")


def sample_chain(P: np.ndarray, n_sequences: int, length: int, *, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None, stationary_law: np.ndarray | None = None) -> torch.Tensor:
    """Stationary sequences, shape (n_sequences, length), int64 on ``device``.

    The loop runs over time steps only; each step draws all sequences at once by inverse-CDF.
    ``stationary_law``: P's stationary law (V,) when the caller holds it (``rgnb.mlp.data.Chain``), else computed.
    """
    P = _check_transition(P)
    n_sequences = check_int("n_sequences", n_sequences, 1, MAX_SEQUENCES)
    length = check_int("length", length, 1, MAX_LENGTH)
    check_size("n_sequences * length", n_sequences * length, 16)  # the uniforms and the tokens
    device = _device(device, generator)
    cdf = torch.as_tensor(np.cumsum(P, axis=1), dtype=torch.float64, device=device)
    cdf[:, -1] = 1.0 + 1e-12
    pi = stationary(P) if stationary_law is None else check_stationary_law(stationary_law, P)
    pi_cdf = torch.as_tensor(np.cumsum(pi), dtype=torch.float64, device=device)
    pi_cdf[-1] = 1.0 + 1e-12
    u = torch.rand(n_sequences, length, generator=generator, dtype=torch.float64, device=device)
    out = torch.empty(n_sequences, length, dtype=torch.int64, device=device)
    out[:, 0] = torch.searchsorted(pi_cdf, u[:, :1].contiguous()).squeeze(1)
    for t in range(1, length):
        rows = cdf[out[:, t - 1]]
        out[:, t] = torch.searchsorted(rows, u[:, t:t + 1].contiguous()).squeeze(1)
    return out
