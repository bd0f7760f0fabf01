"""The chain-spectra chapter's checks of the chains: sizes, pre-stated tolerances and the studies they bound.

The chapter's claims and figures live in :mod:`rgnb.spectra`; these are the measurements over the
chains (arrays in, intervals out) that its claims compare with the tolerances.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rgnb.chains.bayes import masked_token_losses, ratio_interval
from rgnb.chains.families import KINDS, MAX_LENGTH, XI_RANGE, _check_transition, make_chain, spectrum, stationary
from rgnb.chains.masking import DEFAULT_MASK, MaskSpec, distance_to_visible, sample_mask
from rgnb.chains.measured import measured_correlation_length
from rgnb.chains.sampling import sample_chain
from rgnb.stats import Interval
from rgnb.validate import check_choice, check_finite_array, check_int, check_seed


@dataclasses.dataclass(frozen=True)
class SpectraSizes:
    """Sizes of the chain-spectra chapter: sequences for the figures and for the xi scan, lengths, lags."""

    vocab_size: int = 8
    n_sequences: int = 60000
    n_scan: int = 150000
    length: int = 64
    max_lag: int = 20
    task_length: int = 32
    n_bayes: int = 4000
    xis: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0)


SIZES = {"smoke": SpectraSizes(),
         "reference": SpectraSizes(n_sequences=200000, n_scan=400000, n_bayes=20000),
         "full": SpectraSizes(n_sequences=400000, n_scan=1000000, length=128, max_lag=40, n_bayes=100000)}

#: Pre-stated tolerances of the chapter's checks.
SPECTRUM_TOLERANCE = 1e-10     # max |closed form - numpy eigenvalue|
AUTOCORRELATION_MAX_Z = 4.5    # max |empirical - lambda_2^k| / SE over the lags shown
XI_RELATIVE_TOLERANCE = 0.10   # |measured / requested - 1| (whole CI) over the xi grid
CONTEXT_SHARE_THRESHOLD = 0.25  # share of the Bayes information gain from tokens >= 2 steps from view


def spectrum_error(kinds=KINDS, vocab_sizes=(3, 8, 16), xis=(0.3, 1.0, 7.0, 50.0)) -> float:
    """Largest |closed-form - numerical| eigenvalue difference over a grid of chains."""
    worst = 0.0
    for kind in kinds:
        for V in vocab_sizes:
            for xi in xis:
                numeric = np.sort(np.linalg.eigvals(make_chain(kind, V, xi)).real)
                worst = max(worst, float(np.abs(np.sort(spectrum(kind, V, xi)) - numeric).max()))
    return worst


def relative_deviation_interval(interval: Interval, target: float) -> Interval:
    """``|x / target - 1|`` as an interval, from an interval for ``x``."""
    lo, hi = interval.low / target - 1.0, interval.high / target - 1.0
    inside = lo <= 0.0 <= hi
    return Interval(abs(interval.estimate / target - 1.0), 0.0 if inside else min(abs(lo), abs(hi)),
                    max(abs(lo), abs(hi)), interval.level)


def correlation_length_scan(kind: str, vocab_size: int, xis, n_sequences: int, length: int,
                            seed: int = 0) -> dict[str, np.ndarray]:
    """Measured correlation length for each requested ``xi``: arrays ``xi``, ``estimate``, ``low``, ``high``.

    One generator seeded with ``seed`` draws ``n_sequences`` stationary sequences of ``length`` per
    grid point, in order; each row is :func:`measured_correlation_length` (95% CI).
    """
    kind = check_choice("kind", kind, KINDS)
    xis = check_finite_array("xis", xis, ndim=1, low=XI_RANGE[0], high=XI_RANGE[1])
    if xis.size == 0:
        raise ValueError("xis must hold at least one correlation length")
    seed = check_seed("seed", seed)
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for xi in xis:
        P = make_chain(kind, vocab_size, xi)
        rows.append(measured_correlation_length(sample_chain(P, n_sequences, length, generator=gen), P))
    return {"xi": np.asarray(xis, dtype=np.float64), "estimate": np.array([r.estimate for r in rows]),
            "low": np.array([r.low for r in rows]), "high": np.array([r.high for r in rows])}


def worst_xi_deviation(scan: dict[str, np.ndarray]) -> Interval:
    """The largest ``|xi_measured / xi - 1|`` over a scan, as the interval of the worst grid point."""
    devs = [relative_deviation_interval(Interval(e, lo, hi), xi)
            for xi, e, lo, hi in zip(scan["xi"], scan["estimate"], scan["low"], scan["high"])]
    return max(devs, key=lambda d: d.high)


def context_beyond_neighbours(P: np.ndarray, length: int, spec: MaskSpec = DEFAULT_MASK, n_sequences: int = 4000,
                              seed: int = 0, min_distance: int = 2) -> Interval:
    """Share of the Bayes information gain earned by masked tokens ``>= min_distance`` from a visible one.

    The gain of a masked token is ``H(pi) - (-ln Pr(x_t | visible))`` nats (what the context tells
    about it). With isolated masks nearly every masked token sits next to a visible one, so the
    share is small whatever ``xi`` is; spans push it up, and only a long correlation length lets
    tokens far from view be predicted. Ratio estimator over sequences with a 95% CI.
    """
    P = _check_transition(P)
    length = check_int("length", length, 2, MAX_LENGTH)
    seed = check_seed("seed", seed)
    min_distance = check_int("min_distance", min_distance, 1, length)
    gen = torch.Generator().manual_seed(seed)
    tokens = sample_chain(P, n_sequences, length, generator=gen)
    mask = sample_mask(n_sequences, length, spec, generator=gen)
    pi = stationary(P)
    entropy = float(-(pi * np.log(pi)).sum())
    gain = torch.where(mask, entropy - masked_token_losses(P, tokens, mask), torch.zeros((), dtype=torch.float64))
    far = distance_to_visible(mask) >= min_distance
    return ratio_interval((gain * far).sum(1).numpy(), gain.sum(1).numpy())
