"""Markov-chain families with closed-form spectra, their stationary law and exact correlations.

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
"""

from __future__ import annotations

import math

import numpy as np

from rgnb.validate import check_choice, check_finite_array, check_float, check_int, check_size


KINDS = ("potts", "ring")
XI_RANGE = (0.3, 50.0)
#: Largest vocabulary a chain may have; the binding bound is memory: ``make_chain`` builds four
#: (V, V) float64 temporaries, refused above ``MAX_CHAIN_BYTES`` (about V = 5800). The (n, T, V)
#: posteriors of :func:`bayes_posteriors` are bounded by ``rgnb.validate.MAX_BYTES``.
MAX_VOCAB = 1 << 16
MAX_CHAIN_BYTES = 1 << 30
MAX_LENGTH = 1 << 20
MAX_SEQUENCES = 1 << 26


def _check_family(kind: str, vocab_size: int, xi: float) -> tuple[str, int, float]:
    kind = check_choice("kind", kind, KINDS)
    vocab_size = check_int("vocab_size", vocab_size, 3 if kind == "ring" else 2, MAX_VOCAB)
    check_size("vocab_size", 4 * vocab_size * vocab_size, 8, limit=MAX_CHAIN_BYTES)
    xi = check_float("xi", xi, *XI_RANGE)
    return kind, vocab_size, xi


def _check_options(kind: str, options: dict) -> None:
    if options:
        raise ValueError(f"kind={kind!r} takes no options, got {sorted(options)}")


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


def check_stationary_law(pi: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``pi`` as P's stationary law (V,) float64, refused unless it is a probability vector with ``pi P = pi``
    (to 1e-9): what a caller that computed it once (``rgnb.mlp.data.Chain``) passes instead of recomputing it."""
    pi = check_finite_array("stationary_law", pi, ndim=1, low=0.0, high=1.0)
    if pi.shape != (P.shape[0],) or abs(pi.sum() - 1.0) > 1e-9 or np.abs(pi @ P - pi).max() > 1e-9:
        raise ValueError(f"stationary_law must be the stationary law of P (shape ({P.shape[0]},), pi P = pi, sum 1), "
                         f"got {pi!r}")
    return pi


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
