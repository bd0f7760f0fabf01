"""The exact Bayes-optimal masked prediction: forward-backward posteriors, losses and the Bayes floor.

The Bayes-optimal predictor of a masked token is its posterior given every visible token, computed
exactly by forward-backward (:func:`bayes_posteriors`); the floor is its cross-entropy averaged
over Monte Carlo sequences and masks (:func:`bayes_masked_loss`).
"""

from __future__ import annotations

import numpy as np
import torch

from rgnb.chains.families import MAX_LENGTH, MAX_SEQUENCES, _check_transition, check_stationary_law, stationary
from rgnb.chains.masking import DEFAULT_MASK, MaskSpec, distance_to_visible, sample_mask
from rgnb.chains.sampling import sample_chain
from rgnb.profiles import resolve_device
from rgnb.stats import Interval
from rgnb.validate import check_finite_array, check_float, check_int, check_seed, check_size


def bayes_posteriors(P: np.ndarray, tokens: torch.Tensor, mask: torch.Tensor,
                     stationary_law: np.ndarray | None = None) -> torch.Tensor:
    """Posterior ``Pr(x_t = v | visible tokens)`` at every position, shape (n, T, V), float64.

    Forward-backward with hidden positions unobserved, normalised at every step; vectorised over
    sequences, looping over time only. Visible positions get a point mass on their token.
    ``stationary_law``: P's stationary law (V,) when the caller holds it, else computed.
    """
    P = _check_transition(P)
    if tokens.shape != mask.shape or tokens.ndim != 2:
        raise ValueError(f"tokens and mask must both have shape (n, T), got {tuple(tokens.shape)} "
                         f"and {tuple(mask.shape)}")
    device = tokens.device
    V = P.shape[0]
    check_size("n_sequences * length * vocab_size", tokens.numel() * V, 5 * 8)  # alpha, beta, ...
    Pt = torch.as_tensor(P, dtype=torch.float64, device=device)
    pi = torch.as_tensor(stationary(P) if stationary_law is None else check_stationary_law(stationary_law, P),
                         dtype=torch.float64, device=device)
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


def masked_token_losses(P: np.ndarray, tokens: torch.Tensor, mask: torch.Tensor,
                        stationary_law: np.ndarray | None = None) -> torch.Tensor:
    """Bayes-optimal cross-entropy at every position, ``-ln Pr(x_t | visible)``, shape (n, T), nats.

    Zero at visible positions; average over ``mask`` to get nats per masked token.
    """
    post = bayes_posteriors(P, tokens, mask, stationary_law)
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
