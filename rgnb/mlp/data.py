"""A sweep's data: its chains, the seeds of its streams, fresh training batches and fixed masked sets.

Data are fresh every step (no epochs): stationary sequences of the model's chain
(:func:`chain_matrix`: ``rgnb.chains`` families, plus ``"shuffled"``, i.i.d. tokens with the same
uniform marginal, the null control of the findings) with span masking (``rgnb.chains.sample_mask``),
drawn on the device. Each (chain, seed) pair has its own generator seeded from (kind, V, T, mask,
xi, seed) only (:func:`training_stream_seed`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np
import torch

from rgnb import chains
from rgnb.mlp import sweeps as _sweeps
from rgnb.validate import check_choice, check_int


def chain_matrix(kind: str, vocab_size: int, xi: float) -> np.ndarray:
    """Transition matrix of a sweep's chain, (V, V): a ``rgnb.chains`` family, or ``"shuffled"``.

    ``"shuffled"`` is the i.i.d. chain with the families' (uniform) stationary marginal, every row
    ``1/V``: the null control of the findings (a network trained on it has no context to learn);
    its ``xi`` is a nominal label only.
    """
    check_choice("kind", kind, _sweeps.TRAIN_KINDS)
    if kind == _sweeps.SHUFFLED:
        check_int("vocab_size", vocab_size, 2)
        return np.full((vocab_size, vocab_size), 1.0 / vocab_size)
    return chains.make_chain(kind, vocab_size, float(xi))


@dataclasses.dataclass(frozen=True, eq=False)
class Chain:
    """One chain of a sweep, built and checked once: ``kind``, vocabulary ``vocab_size`` V, correlation
    length ``xi`` (a nominal label for the shuffled chain), transition matrix ``P`` (V, V) float64 and its
    stationary law ``pi`` (V,) float64. Sampling and the Bayes floor take ``P`` and ``pi`` from it."""

    kind: str
    vocab_size: int
    xi: float
    P: np.ndarray
    pi: np.ndarray


def chain_of(kind: str, vocab_size: int, xi: float) -> Chain:
    """The :class:`Chain` of a sweep's ``kind`` at ``vocab_size`` and ``xi`` (:func:`chain_matrix`)."""
    P = chain_matrix(kind, vocab_size, xi)
    return Chain(kind, int(vocab_size), float(xi), P, chains.stationary(P))


def _stable_seed(*parts: Any) -> int:
    text = "|".join(repr(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def training_stream_seed(config: _sweeps.SweepConfig, xi: float, seed: int) -> int:
    """Seed of the training-data stream of (chain xi, seed); independent of the rest of the sweep."""
    return _stable_seed("train-data", config.kind, config.vocab_size, config.seq_len, config.mask.rate,
                        config.mask.span, float(xi), int(seed))


def fixed_set(config: _sweeps.SweepConfig, xi: float, n: int, seed: int, device: torch.device):
    """A fixed masked set of chain ``xi``: (tokens, mask, inputs), each (n, T), on ``device``."""
    chain = chain_of(config.kind, config.vocab_size, float(xi))
    gen = torch.Generator(device=device).manual_seed(_stable_seed("fixed", int(seed), float(xi)))
    tokens = chains.sample_chain(chain.P, n, config.seq_len, generator=gen, device=device, stationary_law=chain.pi)
    mask = chains.sample_mask(n, config.seq_len, config.mask, generator=gen, device=device)
    return tokens, mask, chains.apply_mask(tokens, mask, config.vocab_size)


class DataStream:
    """Fresh training batches of every (xi, seed) pair, drawn ``data_chunk`` steps at a time."""

    def __init__(self, config: _sweeps.SweepConfig, device: torch.device):
        self.config = config
        self.device = device
        self.pairs = [(xi, s) for xi in config.xis for s in config.seeds]
        self.chains = {xi: chain_of(config.kind, config.vocab_size, float(xi)) for xi in config.xis}
        self.gens = [torch.Generator(device=device).manual_seed(training_stream_seed(config, xi, s))
                     for xi, s in self.pairs]
        self.step_in_chunk = config.data_chunk

    def _refill(self) -> None:
        c = self.config
        n = c.batch_size * c.data_chunk
        toks, masks = [], []
        for (xi, _), gen in zip(self.pairs, self.gens):
            chain = self.chains[xi]
            t = chains.sample_chain(chain.P, n, c.seq_len, generator=gen, device=self.device, stationary_law=chain.pi)
            m = chains.sample_mask(n, c.seq_len, c.mask, generator=gen, device=self.device)
            toks.append(t.view(c.data_chunk, c.batch_size, c.seq_len))
            masks.append(m.view(c.data_chunk, c.batch_size, c.seq_len))
        self.tokens = torch.stack(toks, 1)  # (chunk, pairs, B, T)
        self.masks = torch.stack(masks, 1)
        self.step_in_chunk = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens and mask for the next step, each (pairs, B, T)."""
        if self.step_in_chunk == self.config.data_chunk:
            self._refill()
        k = self.step_in_chunk
        self.step_in_chunk += 1
        return self.tokens[k], self.masks[k]
