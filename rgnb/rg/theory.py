"""What the exact RG predicts in a layer's parameter, and the estimators the v3 claims need (issue 23).

- :func:`rg_prediction` / :func:`block_sum_prediction`: the exact decimation and block-sum images
  ``R^l(theta_0)`` in the layer parameter; :func:`feature_depth`: the registered depth rule (the
  smallest depth at which every exact map of the family is within ``margin / 2`` of theta*).
- :func:`rank_noise_floor`: mean and sd of the layer parameter (mean |Spearman| of neighbour pairs)
  when the units are independent, in closed form (folded normal with variance ``1 / (B - 1)``).
- :func:`fit_layer_map`: the layer-map estimator. Points ``(x, y)`` = (a layer's coupling, the next
  layer's) from networks trained on a grid of input couplings; least squares of the quadratic
  ``y = a + b x + c x^2`` (both exact maps are in this family: decimation ``x^2``, block sum
  ``x (1 + x) / 2``); its fixed points (roots of ``g(x) = x`` nearest 0 and nearest 1) and the
  linearised eigenvalue ``g'(x*)`` at each.
- :func:`denoise_optimum_loss`: the certified optimum of the local linear denoiser per layer
  (thm-local-dae), against which a trained network's loss gap is measured.
- :func:`shuffle_sites`: the order-breaking null (one permutation of the input sites per network).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from rgnb.rg.config import LAW_BY_NAME
from rgnb.rg.estimators import gaussian_spearman, spearman_to_pearson_gaussian
from rgnb.rg.gaussian_chain import gaussian_chain_lag1_after_block_sums
from rgnb.validate import check_choice, check_finite_array, check_float, check_int

#: Exact one-step maps in the family's natural coupling x (Pearson rho of the Gaussian chain, tanh K of the
#: Ising chain): decimation x -> x^2; block sum of a Markov chain x -> x (1 + x) / 2 (Gaussian chain only).
EXACT_MAPS = {"decimation": (0.0, 0.0, 1.0), "block sum": (0.0, 0.5, 0.5)}
#: Their fixed points and linearised eigenvalues: trivial x* = 0 (stable) and critical x* = 1 (unstable).
EXACT_EIGENVALUES = {"decimation": {"trivial": 0.0, "critical": 2.0}, "block sum": {"trivial": 0.5, "critical": 1.5}}
#: Depth of the i.i.d. (Gamma) feature layer: its block-sum flow reaches theta* only as 2^(-l/2), never within
#: the margin at a trainable depth, so the claim is tested at the chapter's earlier depth against R^l itself.
IID_DEPTH = 6
MAX_DEPTH = 12


def rg_prediction(law_name: str, n_layers: int) -> np.ndarray:
    """Decimation image ``R^l(theta_0)``, ``l = 0..n_layers``, in the layer parameter: ``tanh(K)^(2^l)`` (Ising),
    ``(6/pi) arcsin(phi^(2^l) / 2)`` (Gaussian chain), ``(2 / sqrt k) 2^(-l/2)`` (Gamma skewness, block sums)."""
    law = LAW_BY_NAME[check_choice("law_name", law_name, tuple(LAW_BY_NAME))]
    l = np.arange(check_int("n_layers", n_layers, 0, 64) + 1)
    if law.family == "ising":
        return math.tanh(law.param) ** (2.0 ** l)
    if law.family == "gauss":
        return gaussian_spearman(law.param ** (2.0 ** l))
    return 2 / math.sqrt(law.param) * 2.0 ** (-l / 2)


def block_sum_prediction(law_name: str, n_layers: int) -> np.ndarray:
    """Block-sum image in the layer parameter (the proved optimum of the local linear denoiser): the Gaussian
    chain's block sums of ``2^l`` sites; for i.i.d. data the block sum *is* the exact RG; nan for Ising (block
    sums of spins leave the family)."""
    law = LAW_BY_NAME[check_choice("law_name", law_name, tuple(LAW_BY_NAME))]
    if law.family == "gauss":
        return gaussian_spearman(gaussian_chain_lag1_after_block_sums(law.param, n_layers))
    if law.family == "gamma":
        return rg_prediction(law_name, n_layers)
    return np.full(n_layers + 1, np.nan)


def feature_depth(law_name: str, margin: float) -> int:
    """The registered depth of the feature layer: the smallest ``l`` at which every exact map of the family
    (decimation, and block sums where defined) is within ``margin / 2`` of theta* = 0; :data:`IID_DEPTH` for
    i.i.d. data (never within reach)."""
    margin = check_float("margin", margin, 0.0, 1.0, low_open=True)
    if LAW_BY_NAME[check_choice("law_name", law_name, tuple(LAW_BY_NAME))].family == "gamma":
        return IID_DEPTH
    both = np.fmax(rg_prediction(law_name, MAX_DEPTH), block_sum_prediction(law_name, MAX_DEPTH))
    hits = np.nonzero(both < margin / 2)[0]
    if not hits.size:
        raise ValueError(f"law {law_name!r} does not reach theta* within margin / 2 by depth {MAX_DEPTH}")
    return int(max(hits[0], 1))


def rank_noise_floor(n_samples: int, n_units: int) -> tuple[float, float]:
    """Mean and sd of ``mean_j |rho_S(z_j, z_{j+1})|`` over ``n_units - 1`` neighbour pairs of independent units
    and ``n_samples`` samples: each |rho_S| is a folded normal of variance ``1 / (B - 1)``, neighbour pairs are
    uncorrelated under independence, so mean ``sqrt(2 / (pi (B - 1)))``, sd ``sqrt((1 - 2/pi) / (B - 1) / m)``."""
    B = check_int("n_samples", n_samples, 3)
    m = check_int("n_units", n_units, 2) - 1
    return math.sqrt(2 / (math.pi * (B - 1))), math.sqrt((1 - 2 / math.pi) / (B - 1) / m)


# --------------------------------------------------------------------------------------------- #
# The layer-map estimator
# --------------------------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class LayerMap:
    """A fitted map ``g(x) = a + b x + c x^2``, its fixed points nearest 0 and 1 and the eigenvalues there."""

    coef: tuple                 # (a, b, c)
    fixed_trivial: float
    fixed_critical: float
    eig_trivial: float
    eig_critical: float

    def __call__(self, x):
        a, b, c = self.coef
        x = np.asarray(x, dtype=np.float64)
        return a + b * x + c * x * x


def _fixed_points(a: float, b: float, c: float) -> tuple[float, float]:
    """Roots of ``c x^2 + (b - 1) x + a = 0`` nearest 0 and nearest 1 (a double root, or the point of closest
    approach when the roots are complex, for both)."""
    if abs(c) < 1e-12:
        x = -a / (b - 1) if abs(b - 1) > 1e-12 else 0.0
        return x, x
    disc = (b - 1) ** 2 - 4 * a * c
    if disc < 0:
        x = -(b - 1) / (2 * c)
        return x, x
    r = ((-(b - 1) - math.sqrt(disc)) / (2 * c), (-(b - 1) + math.sqrt(disc)) / (2 * c))
    return min(r, key=abs), min(r, key=lambda x: abs(x - 1))


def fit_layer_map(x, y) -> LayerMap:
    """Least-squares quadratic layer map from points ``(x_i, y_i)`` (>= 3 distinct x), its fixed points and
    linearised eigenvalues ``g'(x*) = b + 2 c x*``."""
    x = check_finite_array("x", x, ndim=1)
    y = check_finite_array("y", y, ndim=1)
    if x.shape != y.shape or np.unique(x).size < 3:
        raise ValueError(f"x and y must be paired with >= 3 distinct x, got shapes {x.shape}, {y.shape}")
    A = np.stack([np.ones_like(x), x, x * x], 1)
    a, b, c = (float(v) for v in np.linalg.lstsq(A, y, rcond=None)[0])
    f0, f1 = _fixed_points(a, b, c)
    return LayerMap((a, b, c), f0, f1, b + 2 * c * f0, b + 2 * c * f1)


def exact_layer_map(scheme: str) -> LayerMap:
    """The exact map of ``scheme`` (``"decimation"`` or ``"block sum"``) as a :class:`LayerMap`."""
    a, b, c = EXACT_MAPS[check_choice("scheme", scheme, tuple(EXACT_MAPS))]
    return LayerMap((a, b, c), 0.0, 1.0, b, b + 2 * c)


def natural_coupling(theta, family: str) -> np.ndarray:
    """The family's coupling from the layer parameter: Gaussian-copula Pearson rho (Gaussian chain), theta
    itself for Ising (spins and sign-like units: Spearman = Pearson = tanh K)."""
    check_choice("family", family, ("ising", "gauss"))
    theta = check_finite_array("theta", theta, low=-1.0, high=1.0)
    return spearman_to_pearson_gaussian(theta) if family == "gauss" else theta


def denoise_optimum_loss(rho, sigma: float):
    """Certified optimal local denoising loss (mean squared error per input unit, in units of its variance) of a
    one-unit linear layer on a pair of unit-variance units with correlation ``rho >= 0`` and noise ``sigma``:
    ``1 - (1 + rho)^2 / (2 (1 + rho + sigma^2))`` (the rank-one reduced-rank regression, thm-local-dae)."""
    rho = check_finite_array("rho", rho, low=0.0, high=1.0)
    s2 = check_float("sigma", sigma, 0.0) ** 2
    return 1 - (1 + rho) ** 2 / (2 * (1 + rho + s2))


def denoise_optimum_per_layer(law_name: str, n_layers: int, sigma: float) -> np.ndarray:
    """The certified optimum of each layer ``l = 1..n_layers`` of a block-sum hierarchy on a Gaussian chain:
    layer ``l``'s pair has the block-sum lag-1 correlation of layer ``l - 1``. (n_layers,)."""
    law = LAW_BY_NAME[check_choice("law_name", law_name, tuple(LAW_BY_NAME))]
    if law.family != "gauss":
        raise ValueError(f"the local denoising optimum is certified for the Gaussian chain only, got {law_name!r}")
    rho = gaussian_chain_lag1_after_block_sums(law.param, n_layers)
    return denoise_optimum_loss(rho[:-1], sigma)


def shuffle_sites(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The order-breaking null: the input sites of each network permuted (one permutation per leading index,
    the same for all its samples), ``(E, B, N) -> (E, B, N)``."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (E, B, N), got {x.shape}")
    perms = np.stack([rng.permutation(x.shape[2]) for _ in range(x.shape[0])])
    return np.take_along_axis(x, perms[:, None, :], axis=2)
