"""The slow (``lambda_2``) eigenspace of a reversible chain, basis-free, and a canonical slow mode."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from rgnb.chains.families import _check_transition, stationary


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
