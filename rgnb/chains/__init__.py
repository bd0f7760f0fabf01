"""Markov chains with known spectra and the masked task on them (one module per concept).

- :mod:`~rgnb.chains.families`: the chain families (``potts``, ``ring``) with closed-form spectra,
  the stationary law, exact mutual information and one-hot correlations;
- :mod:`~rgnb.chains.eigenspace`: the basis-free slow (``lambda_2``) eigenspace and a canonical slow mode;
- :mod:`~rgnb.chains.sampling`: stationary sequences on any torch device;
- :mod:`~rgnb.chains.masking`: span masks, the mask token, exact hiding probabilities;
- :mod:`~rgnb.chains.bayes`: exact Bayes-optimal masked prediction (forward-backward) and the Bayes floor;
- :mod:`~rgnb.chains.measured`: correlations measured on samples, with standard errors;
- :mod:`~rgnb.chains.checks`: the chain-spectra chapter's sizes, tolerances and checks.

The names the chapters and tests use are re-exported here (``from rgnb import chains; chains.make_chain``).
"""

from rgnb.chains.bayes import (bayes_loss_by_distance, bayes_masked_loss, bayes_posteriors, masked_token_losses,
                               ratio_interval)
from rgnb.chains.checks import (AUTOCORRELATION_MAX_Z, CONTEXT_SHARE_THRESHOLD, SIZES, SPECTRUM_TOLERANCE,
                                XI_RELATIVE_TOLERANCE, SpectraSizes, context_beyond_neighbours, correlation_length_scan,
                                relative_deviation_interval, spectrum_error, worst_xi_deviation)
from rgnb.chains.eigenspace import DEGENERACY_TOLERANCE, SlowEigenspace, slow_eigenspace, slow_mode
from rgnb.chains.families import (KINDS, MAX_CHAIN_BYTES, MAX_LENGTH, MAX_SEQUENCES, MAX_VOCAB, XI_RANGE,
                                  _check_transition, correlation_length, make_chain, mutual_information,
                                  onehot_correlation_exact, spectrum, stationary)
from rgnb.chains.masking import (DEFAULT_MASK, MaskSpec, apply_mask, distance_to_visible, expected_mask_fraction,
                                 mask_id, mask_position_probabilities, sample_mask)
from rgnb.chains.measured import (autocorrelation, empirical_mutual_information, measured_correlation_length,
                                  onehot_correlation, slow_mode_autocorrelation)
from rgnb.chains.sampling import sample_chain

__all__ = [
    "AUTOCORRELATION_MAX_Z", "CONTEXT_SHARE_THRESHOLD", "DEFAULT_MASK", "DEGENERACY_TOLERANCE", "KINDS",
    "MAX_CHAIN_BYTES", "MAX_LENGTH", "MAX_SEQUENCES", "MAX_VOCAB", "SIZES", "SPECTRUM_TOLERANCE",
    "XI_RANGE", "XI_RELATIVE_TOLERANCE", "MaskSpec", "SlowEigenspace", "SpectraSizes", "_check_transition",
    "apply_mask", "autocorrelation", "bayes_loss_by_distance", "bayes_masked_loss", "bayes_posteriors",
    "context_beyond_neighbours", "correlation_length", "correlation_length_scan", "distance_to_visible",
    "empirical_mutual_information", "expected_mask_fraction", "make_chain", "mask_id",
    "mask_position_probabilities", "masked_token_losses", "measured_correlation_length", "mutual_information",
    "onehot_correlation", "onehot_correlation_exact", "ratio_interval", "relative_deviation_interval",
    "sample_chain", "sample_mask", "slow_eigenspace", "slow_mode", "slow_mode_autocorrelation", "spectrum",
    "spectrum_error", "stationary", "worst_xi_deviation",
]
