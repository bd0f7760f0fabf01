"""The masked task's masking: span masks, the mask token, exact hiding probabilities, distance to view.

Each position is hidden (token id ``V``) by :func:`sample_mask`, in spans of ``span`` consecutive
positions, each position with probability ``rate`` from the spans and at least one masked position
per sequence (a fallback span), so the expected masked fraction is slightly above ``rate``
(:func:`expected_mask_fraction`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rgnb.chains.families import MAX_LENGTH, MAX_SEQUENCES
from rgnb.chains.sampling import _device
from rgnb.validate import check_float, check_int, check_size


@dataclasses.dataclass(frozen=True)
class MaskSpec:
    """Masking scheme: spans of ``span`` consecutive positions; each position is hidden by a span with
    probability ``rate``, and a row left empty gets one fallback span, so the expected masked fraction
    is above ``rate``: exactly :func:`expected_mask_fraction` (0.4523, 0.3416, 0.3053 at length 8, 16,
    32 for rate 0.3, span 4)."""

    rate: float = 0.3
    span: int = 4

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", check_float("mask_rate", self.rate, 0.0, 1.0, low_open=True,
                                                     high_open=True))
        object.__setattr__(self, "span", check_int("span", self.span, 1, 4096))

    @property
    def start_probability(self) -> float:
        """Per-position probability that a span starts there: ``1 - (1 - rate)^(1/span)``."""
        return 1.0 - (1.0 - self.rate) ** (1.0 / self.span)


#: The book's default masking (chosen in the chain-spectra chapter: spans make the masked token's
#: nearest visible neighbours several steps away, so the correlation length matters to the task).
DEFAULT_MASK = MaskSpec(rate=0.3, span=4)


def mask_id(vocab_size: int) -> int:
    """Token id of the mask symbol; the model's input vocabulary has ``vocab_size + 1`` entries."""
    return int(vocab_size)


def sample_mask(n_sequences: int, length: int, spec: MaskSpec = DEFAULT_MASK, *,
                generator: torch.Generator | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean mask (True = hidden), shape (n_sequences, length), at least one True per row.

    Span starts are i.i.d. Bernoulli(``spec.start_probability``) over ``length + span - 1``
    positions (so spans may enter from the left edge and every position is hidden with
    probability ``rate``); each start hides ``span`` positions. A row left with nothing hidden
    (probability (1 - q)^(length + span - 1)) gets one span at a uniformly drawn start, cut at the
    right edge; so each position is hidden with probability above ``rate``
    (:func:`mask_position_probabilities`) and the expected masked fraction is
    :func:`expected_mask_fraction` (0.3053 at length 32, rate 0.3, span 4).
    """
    if not isinstance(spec, MaskSpec):
        raise ValueError(f"spec must be a MaskSpec, got {type(spec).__name__}")
    n_sequences = check_int("n_sequences", n_sequences, 1, MAX_SEQUENCES)
    length = check_int("length", length, 1, MAX_LENGTH)
    check_size("n_sequences * length", n_sequences * (length + spec.span), 8)
    device = _device(device, generator)
    span = spec.span
    u = torch.rand(n_sequences, length + span - 1, generator=generator, device=device)
    starts = (u < spec.start_probability).to(torch.float32)
    hidden = torch.nn.functional.max_pool1d(starts[:, None, :], kernel_size=span, stride=1)[:, 0, :]
    mask = hidden[:, :length] > 0
    fallback = torch.randint(0, length, (n_sequences,), generator=generator, device=device)
    positions = torch.arange(length, device=device)
    forced = (positions[None, :] >= fallback[:, None]) & (positions[None, :] < fallback[:, None] + span)
    empty = ~mask.any(dim=1, keepdim=True)
    return mask | (empty & forced)


def apply_mask(tokens: torch.Tensor, mask: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Replace hidden positions by the mask id; shapes (n, T) -> (n, T)."""
    return torch.where(mask, torch.full_like(tokens, mask_id(vocab_size)), tokens)


def mask_position_probabilities(length: int, spec: MaskSpec = DEFAULT_MASK) -> np.ndarray:
    """Exact probability that :func:`sample_mask` hides position j, shape (length,), float64.

    Position j is hidden by a span iff one of the ``span`` starts j .. j + span - 1 of its window fires:
    probability 1 - (1 - q)^span = ``rate`` (q = ``spec.start_probability``) at every position. A row
    is empty iff none of the length + span - 1 starts fires, probability (1 - q)^(length + span - 1);
    its fallback span starts at f uniform on 0 .. length - 1 and hides j iff f <= j <= f + span - 1,
    probability min(j + 1, span) / length. So P_j = rate + (1 - q)^(length + span - 1) min(j + 1, span) / length
    (more than ``rate``: 0.30526 mean at length 32, rate 0.3, span 4).
    """
    if not isinstance(spec, MaskSpec):
        raise ValueError(f"spec must be a MaskSpec, got {type(spec).__name__}")
    length = check_int("length", length, 1, MAX_LENGTH)
    keep = 1.0 - spec.start_probability  # a start does not fire
    by_span = 1.0 - keep ** spec.span  # = rate up to round-off
    empty = keep ** (length + spec.span - 1)
    j = np.arange(length, dtype=np.float64)
    return by_span + empty * np.minimum(j + 1.0, float(spec.span)) / length


def expected_mask_fraction(length: int, spec: MaskSpec = DEFAULT_MASK) -> float:
    """Exact expected fraction of positions :func:`sample_mask` hides in a row of ``length``: the mean of
    :func:`mask_position_probabilities`, rate + (1 - q)^(length + span - 1) sum_f min(span, length - f) / length^2
    (0.4523 at length 8, 0.3416 at 16, 0.3053 at 32 for rate 0.3, span 4; it tends to ``rate`` as length grows)."""
    return float(mask_position_probabilities(length, spec).mean())


def distance_to_visible(mask: torch.Tensor) -> torch.Tensor:
    """Distance from each position to its nearest visible position, shape (n, T), int64 (0 if visible).

    A row with every position hidden gets ``T`` everywhere.
    """
    n, length = mask.shape
    positions = torch.arange(length, device=mask.device)
    visible_pos = torch.where(~mask, positions[None, :], torch.full_like(mask, 10 * length, dtype=torch.int64))
    dist = (positions[None, :, None] - visible_pos[:, None, :]).abs().min(dim=2).values
    return dist.clamp(max=length)
