"""Representation metrics: effective rank, participation ratio, linear CKA, kernel drift (one module per concept).

Conventions. A *representation* is an array ``X`` of shape (..., N, d): N samples (rows) of d
features, batched over any leading axes. A *stream* is a residual stream ``h`` of shape
(..., N, T, d): N sequences, T positions, d channels (``rgnb.mlp.train.SweepResult.streams`` gives
(L+1, N, T, d), one stream per layer). Inputs may be numpy arrays or torch tensors; everything is
computed in float64 numpy and returned as numpy.

- :mod:`~rgnb.metrics.arrays`: input handling (float64 views, shape checks, batched products);
- :mod:`~rgnb.metrics.spectral`: singular values, effective rank, participation ratio, PCs for a
  variance share, of representations and of streams (:data:`STREAM_MODES`);
- :mod:`~rgnb.metrics.drift`: linear CKA, kernel drift between consecutive layers, its concentration;
- :mod:`~rgnb.metrics.shape`: the shape of a profile over layers (Spearman with depth, monotone share,
  collapse ratio);
- :mod:`~rgnb.metrics.intervals`: intervals over seeds and of a slope;
- :mod:`~rgnb.metrics.masked`: protocol v2, masked rows per position and the normalised stream LN(h);
- :mod:`~rgnb.metrics.probes`: the task-relevant dimension from linear probes of every rank.

The names the chapters and tests use are re-exported here (``from rgnb import metrics; metrics.stream_erank``).
"""

from rgnb.metrics.drift import Concentration, drift_concentration, kernel_drift, linear_cka, plateau_level
from rgnb.metrics.intervals import seed_band, seed_ci, slope_ci
from rgnb.metrics.masked import (DIMENSIONS, LN_EPS, VIEWS, layer_norm_rows, masked_dimension_profile,
                                 masked_drift_profile, masked_rows)
from rgnb.metrics.probes import dimension_from_losses, probe_losses, task_relevant_dimension
from rgnb.metrics.shape import collapse_ratio, depth_spearman, nonincreasing_share, spearman
from rgnb.metrics.spectral import (MEASURES, STREAM_MODES, effective_rank, erank_from_singular, participation_ratio,
                                   pcs_for_variance, pr_from_singular, singular_values, stream_erank, stream_pr,
                                   stream_spectrum_measure)

__all__ = [
    "DIMENSIONS", "LN_EPS", "MEASURES", "STREAM_MODES", "VIEWS", "Concentration", "collapse_ratio",
    "depth_spearman", "dimension_from_losses", "drift_concentration", "effective_rank", "erank_from_singular",
    "kernel_drift", "layer_norm_rows", "linear_cka", "masked_dimension_profile", "masked_drift_profile",
    "masked_rows", "nonincreasing_share", "participation_ratio", "pcs_for_variance", "plateau_level",
    "pr_from_singular", "probe_losses", "seed_band", "seed_ci", "singular_values", "slope_ci", "spearman",
    "stream_erank", "stream_pr", "stream_spectrum_measure", "task_relevant_dimension",
]
