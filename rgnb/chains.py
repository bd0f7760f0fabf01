"""Markov-chain families with closed-form spectra, samplers, masking, and the exact Bayes floor.

A chain family maps ``(vocab_size, xi)`` to a V x V row-stochastic matrix ``P`` whose eigenvalues
are known in closed form and whose correlation length ``xi = -1 / ln|lambda_2|`` is the one asked
for, exactly (the family parameter is solved for, not fitted):

- ``"potts"``: ``P = lam I + (1 - lam) 1 pi^T`` with ``pi`` uniform; eigenvalues ``1`` and ``lam``
  (``V - 1`` times), ``lam = exp(-1/xi)``. One relevant mode.
- ``"ring"``: the heat kernel of the nearest-neighbour walk on ``Z_V``, ``P = exp(tau (A - I))``
  with ``A`` the nearest-neighbour average; a symmetric random walk with a nonnegative step kernel.
  Its eigenvalues are the Fourier transform of the kernel,
  ``lambda_k = exp(-tau (1 - cos(2 pi k / V)))``, so mode ``k`` has its own correlation length
  ``xi_k = xi (1 - cos(2 pi / V)) / (1 - cos(2 pi k / V))``: several relevant and irrelevant modes
  coexist. ``tau = 1 / (xi (1 - cos(2 pi / V)))`` hits the requested ``xi`` exactly.

The masked task: each position is hidden (token id ``V``) by :func:`sample_mask`, in spans of
``span`` consecutive positions, each position with probability ``rate`` from the spans and at least
one masked position per sequence (a fallback span), so the expected masked fraction is slightly
above ``rate`` (:func:`expected_mask_fraction`). The Bayes-optimal predictor of a masked token is its posterior given every
visible token, computed exactly by forward-backward (:func:`bayes_posteriors`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from rgnb.profiles import resolve_device
from rgnb.stats import Interval
from rgnb.validate import (check_choice, check_finite_array, check_float, check_int, check_seed,
                           check_size)

KINDS = ("potts", "ring")
XI_RANGE = (0.3, 50.0)
#: Largest vocabulary a chain may have; the binding bound is memory: ``make_chain`` builds four
#: (V, V) float64 temporaries, refused above ``MAX_CHAIN_BYTES`` (about V = 5800). The (n, T, V)
#: posteriors of :func:`bayes_posteriors` are bounded by ``rgnb.validate.MAX_BYTES``.
MAX_VOCAB = 1 << 16
MAX_CHAIN_BYTES = 1 << 30
MAX_LENGTH = 1 << 20
MAX_SEQUENCES = 1 << 26


# --------------------------------------------------------------------------------------------- #
# Chain families and their spectra
# --------------------------------------------------------------------------------------------- #
def _check_family(kind: str, vocab_size: int, xi: float) -> tuple[str, int, float]:
    kind = check_choice("kind", kind, KINDS)
    vocab_size = check_int("vocab_size", vocab_size, 3 if kind == "ring" else 2, MAX_VOCAB)
    check_size("vocab_size", 4 * vocab_size * vocab_size, 8, limit=MAX_CHAIN_BYTES)
    xi = check_float("xi", xi, *XI_RANGE)
    return kind, vocab_size, xi


def _check_options(kind: str, options: dict) -> None:
    if options:
        raise ValueError(f"kind={kind!r} takes no options, got {sorted(options)}")


def _device(device, generator: torch.Generator | None) -> torch.device:
    """The device to sample on: ``device`` through ``resolve_device``, else the generator's, else the CPU."""
    if device is not None:
        return resolve_device(device)
    return generator.device if generator is not None else torch.device("cpu")


def _ring_tau(vocab_size: int, xi: float) -> float:
    return 1.0 / (xi * (1.0 - math.cos(2.0 * math.pi / vocab_size)))


def spectrum(kind: str, vocab_size: int, xi: float, **options) -> np.ndarray:
    """Closed-form eigenvalues of ``make_chain(kind, vocab_size, xi)``, shape (V,), float64.

    Ordered by Fourier mode for ``"ring"`` (``k = 0..V-1``) and as ``[1, lam, ..., lam]`` for
    ``"potts"``; ``lambda_0 = 1`` is the stationary mode in both.
    """
    kind, vocab_size, xi = _check_family(kind, vocab_size, xi)
    _check_options(kind, options)
    if kind == "potts":
        out = np.full(vocab_size, math.exp(-1.0 / xi))
        out[0] = 1.0
        return out
    k = np.arange(vocab_size, dtype=np.float64)
    return np.exp(-_ring_tau(vocab_size, xi) * (1.0 - np.cos(2.0 * np.pi * k / vocab_size)))


def make_chain(kind: str, vocab_size: int, xi: float, **options) -> np.ndarray:
    """Transition matrix ``P[a, b] = Pr(x_{t+1} = b | x_t = a)``, shape (V, V), float64, row-stochastic."""
    lam = spectrum(kind, vocab_size, xi, **options)
    vocab_size = int(vocab_size)
    if kind == "potts":
        return lam[1] * np.eye(vocab_size) + (1.0 - lam[1]) / vocab_size
    # Symmetric circulant: P[a, b] = (1/V) sum_k lambda_k cos(2 pi k (a - b) / V).
    k = np.arange(vocab_size)
    offsets = np.arange(vocab_size)
    kernel = (lam[None, :] * np.cos(2.0 * np.pi * np.outer(offsets, k) / vocab_size)).sum(1) / vocab_size
    kernel = np.clip(kernel, 0.0, None)  # heat kernels are positive; clip round-off only
    kernel /= kernel.sum()
    diff = (offsets[None, :] - offsets[:, None]) % vocab_size
    return kernel[diff]


def correlation_length(P: np.ndarray) -> float:
    """``-1 / ln|lambda_2|`` from the numerical spectrum of ``P`` (V, V)."""
    P = _check_transition(P)
    mags = np.sort(np.abs(np.linalg.eigvals(P)))[::-1]
    return float(-1.0 / np.log(mags[1]))


def _check_transition(P: np.ndarray) -> np.ndarray:
    P = check_finite_array("P", P, ndim=2, low=0.0, high=1.0)
    if P.shape[0] != P.shape[1] or not 2 <= P.shape[0] <= MAX_VOCAB:
        raise ValueError(f"P must be a square (V, V) matrix with V in [2, {MAX_VOCAB}], got shape {P.shape}")
    check_size("P", 4 * P.size, 8, limit=MAX_CHAIN_BYTES)
    if not np.allclose(P.sum(1), 1.0, atol=1e-10):
        raise ValueError("P must be row-stochastic: nonnegative entries, rows summing to 1")
    return P


def stationary(P: np.ndarray) -> np.ndarray:
    """Stationary distribution ``pi`` with ``pi P = pi``, shape (V,), float64."""
    P = _check_transition(P)
    w, v = np.linalg.eig(P.T)
    if np.sum(np.abs(w - 1.0) < 1e-9) != 1:
        raise ValueError("P must be irreducible (the eigenvalue 1 must be simple, so pi is unique)")
    pi = np.real(v[:, np.argmin(np.abs(w - 1.0))])  # simple: unique up to scale, fixed by the sum
    return pi / pi.sum()


def mutual_information(P: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Exact ``I(x_0; x_k)`` in nats for a stationary chain, one value per lag, shape (len(lags),)."""
    P = _check_transition(P)
    pi = stationary(P)
    out = []
    for k in np.asarray(lags, dtype=int):
        Pk = np.linalg.matrix_power(P, int(k))
        joint = pi[:, None] * Pk
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(joint > 0, joint * np.log(Pk / pi[None, :]), 0.0)
        out.append(terms.sum())
    return np.asarray(out)


def onehot_correlation_exact(P: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Normalised connected correlation of one-hot tokens at each lag, shape (len(lags),).

    ``C(k) = sum_a [Pr(x_0 = a, x_k = a) - pi_a^2] / (1 - sum_a pi_a^2)``; for a symmetric chain with
    uniform ``pi`` this is ``sum_{j >= 2} lambda_j^k / (V - 1)`` (``= lam^k`` for Potts).
    """
    P = _check_transition(P)
    pi = stationary(P)
    norm = 1.0 - (pi**2).sum()
    return np.asarray([((pi * np.diag(np.linalg.matrix_power(P, int(k)))).sum() - (pi**2).sum()) / norm
                       for k in np.asarray(lags, dtype=int)])


#: Eigenvalues of the symmetrised ``P`` closer than this are one (degenerate) eigenvalue.
DEGENERACY_TOLERANCE = 1e-9


@dataclasses.dataclass(frozen=True)
class SlowEigenspace:
    """The eigenspace of ``lambda_2`` (the eigenvalue of second-largest modulus) of a reversible chain.

    ``kernel`` (V, V) float64 is ``K(a, b) = sum_i f_i(a) f_i(b)`` over any ``pi``-orthonormal basis
    ``f_i`` of the eigenspace: it does not depend on the basis (and is computed without one).
    ``eigenvalue`` is ``lambda_2`` and ``multiplicity`` the dimension ``d`` of the eigenspace.
    """

    kernel: np.ndarray
    eigenvalue: float
    multiplicity: int


def slow_eigenspace(P: np.ndarray) -> SlowEigenspace:
    """The ``lambda_2`` eigenspace of a reversible, irreducible ``P`` (V, V) as a basis-free kernel.

    The spectral projector is the polynomial ``prod_mu (P - mu I) / (lambda_2 - mu)`` over the other
    distinct eigenvalues ``mu`` (from ``eigvalsh`` of the symmetrised ``P``): no eigenvector enters,
    so no arbitrary basis of a degenerate eigenspace (Potts: ``V - 1``, ring: 2) can change the
    result. ``K = projector / pi`` (columnwise). Raises if ``P`` is not reversible or not irreducible.
    """
    P = _check_transition(P)
    V = P.shape[0]
    pi = stationary(P)
    flow = pi[:, None] * P
    if not np.allclose(flow, flow.T, atol=1e-12):
        raise ValueError("P must be reversible (pi_a P_ab = pi_b P_ba) for its slow eigenspace to be real")
    root = np.sqrt(pi)
    sym = root[:, None] * P / root[None, :]
    w = np.sort(np.linalg.eigvalsh(0.5 * (sym + sym.T)))[::-1]
    clusters: list[list[float]] = [[float(w[0])]]
    for value in w[1:]:
        if clusters[-1][-1] - value <= DEGENERACY_TOLERANCE:
            clusters[-1].append(float(value))
        else:
            clusters.append([float(value)])
    values = [float(np.mean(c)) for c in clusters]
    if len(clusters[0]) > 1 or abs(values[0] - 1.0) > 1e-8:
        raise ValueError("P must be irreducible (the eigenvalue 1 must be simple)")
    # lambda_2: largest modulus after the stationary mode; on a tie +lam wins over -lam.
    second = min(range(1, len(values)), key=lambda i: (-round(abs(values[i]), 12), -values[i]))
    lam2 = values[second]
    # Multiply the small-|mu| factors first and annihilate mu = 1 last (keeps round-off ~1e-12).
    others = sorted((v for i, v in enumerate(values) if i != second), key=abs)
    projector = np.eye(V)
    for mu in others:
        projector = (P - mu * np.eye(V)) @ projector / (lam2 - mu)
    if np.abs(projector @ projector - projector).max() > 1e-8:
        raise ValueError("the slow eigenspace of P is too ill-conditioned to project onto (eigenvalues too close)")
    kernel = projector / pi[None, :]
    kernel = 0.5 * (kernel + kernel.T)
    return SlowEigenspace(kernel, lam2, len(clusters[second]))


def slow_mode(P: np.ndarray) -> np.ndarray:
    """A canonical real right eigenvector ``f`` of ``P`` for ``lambda_2``, shape (V,), centred under ``pi``.

    ``f`` is the projection of the indicator of state 0 onto the ``lambda_2`` eigenspace,
    ``K(:, 0) / sqrt(K(0, 0))`` (unit variance under ``pi``): it depends only on ``P``, never on the
    basis an eigensolver returns for a degenerate eigenspace. For such an ``f``,
    ``Corr(f(x_t), f(x_{t+k})) = lambda_2^k`` exactly. For measuring with lowest variance use
    :func:`slow_mode_autocorrelation`, which averages over the whole eigenspace.
    """
    space = slow_eigenspace(P)
    f = space.kernel[:, 0] / math.sqrt(space.kernel[0, 0])
    return f - (stationary(P) * f).sum()


# --------------------------------------------------------------------------------------------- #
# Sampling and masking (vectorised over sequences, any torch device)
# --------------------------------------------------------------------------------------------- #
def sample_chain(P: np.ndarray, n_sequences: int, length: int, *, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """Stationary sequences, shape (n_sequences, length), int64 on ``device``.

    The loop runs over time steps only; each step draws all sequences at once by inverse-CDF.
    """
    P = _check_transition(P)
    n_sequences = check_int("n_sequences", n_sequences, 1, MAX_SEQUENCES)
    length = check_int("length", length, 1, MAX_LENGTH)
    check_size("n_sequences * length", n_sequences * length, 16)  # the uniforms and the tokens
    device = _device(device, generator)
    cdf = torch.as_tensor(np.cumsum(P, axis=1), dtype=torch.float64, device=device)
    cdf[:, -1] = 1.0 + 1e-12
    pi_cdf = torch.as_tensor(np.cumsum(stationary(P)), dtype=torch.float64, device=device)
    pi_cdf[-1] = 1.0 + 1e-12
    u = torch.rand(n_sequences, length, generator=generator, dtype=torch.float64, device=device)
    out = torch.empty(n_sequences, length, dtype=torch.int64, device=device)
    out[:, 0] = torch.searchsorted(pi_cdf, u[:, :1].contiguous()).squeeze(1)
    for t in range(1, length):
        rows = cdf[out[:, t - 1]]
        out[:, t] = torch.searchsorted(rows, u[:, t:t + 1].contiguous()).squeeze(1)
    return out


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


# --------------------------------------------------------------------------------------------- #
# Exact Bayes-optimal masked prediction
# --------------------------------------------------------------------------------------------- #
def bayes_posteriors(P: np.ndarray, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Posterior ``Pr(x_t = v | visible tokens)`` at every position, shape (n, T, V), float64.

    Forward-backward with hidden positions unobserved, normalised at every step; vectorised over
    sequences, looping over time only. Visible positions get a point mass on their token.
    """
    P = _check_transition(P)
    if tokens.shape != mask.shape or tokens.ndim != 2:
        raise ValueError(f"tokens and mask must both have shape (n, T), got {tuple(tokens.shape)} "
                         f"and {tuple(mask.shape)}")
    device = tokens.device
    V = P.shape[0]
    check_size("n_sequences * length * vocab_size", tokens.numel() * V, 5 * 8)  # alpha, beta, ...
    Pt = torch.as_tensor(P, dtype=torch.float64, device=device)
    pi = torch.as_tensor(stationary(P), dtype=torch.float64, device=device)
    n, length = tokens.shape
    onehot = torch.nn.functional.one_hot(tokens.clamp(max=V - 1), V).to(torch.float64)
    emission = torch.where(mask[..., None], torch.ones_like(onehot), onehot)  # (n, T, V)
    alpha = torch.empty(n, length, V, dtype=torch.float64, device=device)
    a = pi[None, :] * emission[:, 0]
    alpha[:, 0] = a / a.sum(1, keepdim=True)
    for t in range(1, length):
        a = (alpha[:, t - 1] @ Pt) * emission[:, t]
        alpha[:, t] = a / a.sum(1, keepdim=True)
    beta = torch.empty_like(alpha)
    beta[:, -1] = 1.0
    for t in range(length - 2, -1, -1):
        b = (emission[:, t + 1] * beta[:, t + 1]) @ Pt.T
        beta[:, t] = b / b.sum(1, keepdim=True)
    post = alpha * beta
    return post / post.sum(2, keepdim=True)


def masked_token_losses(P: np.ndarray, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Bayes-optimal cross-entropy at every position, ``-ln Pr(x_t | visible)``, shape (n, T), nats.

    Zero at visible positions; average over ``mask`` to get nats per masked token.
    """
    post = bayes_posteriors(P, tokens, mask)
    p_true = post.gather(2, tokens.clamp(max=P.shape[0] - 1)[..., None])[..., 0]
    return torch.where(mask, -torch.log(p_true), torch.zeros_like(p_true))


def ratio_interval(numerators: np.ndarray, denominators: np.ndarray, level: float = 0.95) -> Interval:
    """``sum(a) / sum(b)`` over i.i.d. sequences with a delta-method normal interval."""
    a = check_finite_array("numerators", numerators, ndim=1)
    b = check_finite_array("denominators", denominators, ndim=1)  # per-unit values may be negative
    if a.shape != b.shape or a.size < 2 or b.sum() == 0:
        raise ValueError(f"numerators and denominators must be equal-length arrays of >= 2 values with "
                         f"a nonzero sum of denominators, got shapes {a.shape}, {b.shape}")
    level = check_float("level", level, 0.0, 1.0, low_open=True, high_open=True)
    r = a.sum() / b.sum()
    se = np.sqrt(np.var(a - r * b, ddof=1) / a.size) / abs(b.mean())
    z = float(torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(0.5 + level / 2)))
    return Interval(float(r), float(r - z * se), float(r + z * se), level)


def bayes_masked_loss(P: np.ndarray, length: int, spec: MaskSpec = DEFAULT_MASK, n_sequences: int = 60000,
                      seed: int = 0, device: torch.device | str = "cpu") -> Interval:
    """Bayes-optimal masked cross-entropy in nats per masked token (token-weighted), with a 95% CI.

    Exact per sequence (forward-backward); the expectation over sequences and masks is a Monte
    Carlo average over ``n_sequences`` stationary sequences drawn with ``seed``.
    """
    P = _check_transition(P)
    length = check_int("length", length, 2, MAX_LENGTH)  # length 1: no context, nothing to estimate
    n_sequences = check_int("n_sequences", n_sequences, 2, MAX_SEQUENCES)
    seed = check_seed("seed", seed)
    device = resolve_device(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    tokens = sample_chain(P, n_sequences, length, generator=gen, device=device)
    mask = sample_mask(n_sequences, length, spec, generator=gen, device=device)
    losses = masked_token_losses(P, tokens, mask)
    return ratio_interval(losses.sum(1).cpu().numpy(), mask.sum(1).cpu().numpy())


def bayes_loss_by_distance(P: np.ndarray, length: int, spec: MaskSpec = DEFAULT_MASK, n_sequences: int = 60000,
                           seed: int = 0, max_distance: int | None = None) -> dict[str, np.ndarray]:
    """Bayes loss of masked tokens grouped by distance to the nearest visible token.

    Returns ``distance`` (D,), ``share`` (fraction of masked tokens at that distance), ``loss``
    (mean nats per masked token at that distance) and ``gain`` (share-weighted information the
    context supplies, ``ln V - loss``, for a uniform stationary law), each shape (D,).
    """
    P = _check_transition(P)
    length = check_int("length", length, 2, MAX_LENGTH)
    n_sequences = check_int("n_sequences", n_sequences, 1, MAX_SEQUENCES)
    seed = check_seed("seed", seed)
    if max_distance is not None:
        max_distance = check_int("max_distance", max_distance, 1, length)
    gen = torch.Generator().manual_seed(seed)
    tokens = sample_chain(P, n_sequences, length, generator=gen)
    mask = sample_mask(n_sequences, length, spec, generator=gen)
    losses = masked_token_losses(P, tokens, mask)[mask].numpy()
    dist = distance_to_visible(mask)[mask].numpy()
    top = max_distance if max_distance is not None else int(dist.max())
    dist = np.minimum(dist, top)
    d = np.arange(1, top + 1)
    counts = np.bincount(dist, minlength=top + 1)[1:]
    sums = np.bincount(dist, weights=losses, minlength=top + 1)[1:]
    share = counts / counts.sum()
    loss = np.divide(sums, counts, out=np.full(top, np.nan), where=counts > 0)
    entropy = float(-(stationary(P) * np.log(stationary(P))).sum())
    return {"distance": d, "share": share, "loss": loss, "gain": share * (entropy - np.nan_to_num(loss))}


# --------------------------------------------------------------------------------------------- #
# Empirical correlation measurements on samples
# --------------------------------------------------------------------------------------------- #
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


# --------------------------------------------------------------------------------------------- #
# The chain-spectra chapter's checks
# --------------------------------------------------------------------------------------------- #
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


def relative_deviation(interval: Interval, target: float) -> Interval:
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


def worst_relative_deviation(scan: dict[str, np.ndarray]) -> Interval:
    """The largest ``|xi_measured / xi - 1|`` over a scan, as the interval of the worst grid point."""
    devs = [relative_deviation(Interval(e, lo, hi), xi)
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
