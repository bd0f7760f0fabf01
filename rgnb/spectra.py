"""The chain-spectra chapter: what it measures on samples, and its declared claims.

The chains, samplers and the exact Bayes floor live in :mod:`rgnb.chains`; this module runs the
chapter's studies over them (arrays in, arrays out) and declares the chapter's claims.
"""

from __future__ import annotations

import numpy as np
import torch

from rgnb import chains
from rgnb.claims import ClaimSpec, Row, evaluate
from rgnb.stats import Interval, exact
from rgnb.validate import check_int

CHAPTER = "chain_spectra"
#: Correlation lengths at which the samplers are checked lag by lag (the paper's two chains).
CHECKED_XIS = (1.0, 7.0)
#: Smallest exact autocorrelation compared with the samples (below it the estimate is noise).
SHOWN_AUTOCORRELATION = 1e-3
#: Values smaller than this are round-off: stored as the bound "< 1e-12".
ROUND_OFF = 1e-12

CLAIMS = {
    "spectrum": ClaimSpec(
        id="sanity-closed-form-spectra", chapter=CHAPTER, source="sanity check",
        claim="The closed-form spectra are the chains' spectra",
        statistic="max |closed form - numpy eigenvalue| over both families, V in {3, 8, 16}, xi in {0.3, 1, 7, 50}",
        threshold=chains.SPECTRUM_TOLERANCE, passes="below", premise="none: an exact computation",
        null_control="", ci_method="exact", figure="fig-spectra"),
    "autocorrelation": ClaimSpec(
        id="sanity-slow-mode-autocorrelation", chapter=CHAPTER, source="sanity check",
        claim="The sampler's slow-mode autocorrelation is lambda_2^k",
        statistic="max |estimate - lambda_2^k| / SE over lags with lambda_2^k > 1e-3, both families, xi = 1 and 7",
        threshold=chains.AUTOCORRELATION_MAX_Z, passes="below", premise="none: samples from the exact sampler",
        null_control="", ci_method="exact", figure="fig-correlations"),
    "measured_xi": ClaimSpec(
        id="sanity-measured-correlation-length", chapter=CHAPTER, source="sanity check",
        claim="The measured correlation length is the requested one",
        statistic="worst |xi_measured / xi - 1| over the xi grid and both families",
        threshold=chains.XI_RELATIVE_TOLERANCE, passes="below", premise="none: samples from the exact sampler",
        null_control="", ci_method="normal-se", figure="fig-measured-xi"),
    "span_context": ClaimSpec(
        id="ours-span-masking-rewards-context", chapter=CHAPTER, source="ours",
        claim="With the default span masking, context beyond the nearest visible neighbours matters at xi = 7",
        statistic="share of the Bayes information gain from masked tokens >= 2 steps from view (Potts, xi = 7)",
        threshold=chains.CONTEXT_SHARE_THRESHOLD, passes="above",
        premise="none: exact Bayes posteriors (forward-backward, checked by enumeration)",
        null_control="isolated masking (rate 0.15, span 1) on the same chain", ci_method="normal-se",
        figure="fig-bayes-floor"),
}


def autocorrelation_study(vocab_size: int, xis, n_sequences: int, length: int, max_lag: int,
                          generator: torch.Generator, device: torch.device | str = "cpu") -> list[dict]:
    """Sample each family at each ``xi`` and measure its correlations against the exact ones.

    Returns one record per (kind, xi) with arrays over lags 0..max_lag: ``slow`` / ``slow_se``
    (slow-mode autocorrelation and SE over sequences), ``slow_exact`` (``lambda_2^k``), ``onehot`` /
    ``onehot_se`` / ``onehot_exact`` (normalised one-hot connected correlation), and over lags
    1..12 ``mi_exact`` / ``mi_plugin`` (nats).
    """
    check_int("max_lag", max_lag, 1, length - 1)
    lags = np.arange(max_lag + 1)
    mi_lags = np.arange(1, 13)
    records = []
    for kind in chains.KINDS:
        for xi in xis:
            P = chains.make_chain(kind, vocab_size, xi)
            x = chains.sample_chain(P, n_sequences, length, generator=generator, device=device).cpu()
            slow, slow_se = chains.autocorrelation(x, chains.slow_mode(P), max_lag)
            onehot, onehot_se = chains.onehot_correlation(x, vocab_size, max_lag)
            records.append({"kind": kind, "xi": float(xi), "lags": lags, "slow": slow, "slow_se": slow_se,
                            "slow_exact": np.exp(-lags / xi), "onehot": onehot, "onehot_se": onehot_se,
                            "onehot_exact": chains.onehot_correlation_exact(P, lags), "mi_lags": mi_lags,
                            "mi_exact": chains.mutual_information(P, mi_lags),
                            "mi_plugin": chains.empirical_mutual_information(x, vocab_size, mi_lags)})
    return records


def worst_autocorrelation_z(records: list[dict]) -> float:
    """Largest ``|estimate - lambda_2^k| / SE`` over the lags where ``lambda_2^k > 1e-3``."""
    worst = 0.0
    for r in records:
        shown = r["slow_exact"] > SHOWN_AUTOCORRELATION
        worst = max(worst, float(np.max(np.abs(r["slow"] - r["slow_exact"])[shown] / r["slow_se"][shown])))
    return worst


def chapter_claims(*, spectrum_error: float, worst_z: float, worst_xi: Interval, span_share: Interval,
                   isolated_share: Interval, n_scan: int, n_bayes: int, profile: str) -> list[Row]:
    """The chapter's rows, evaluated from its measurements (intervals are delta-method normal)."""
    normal = lambda iv, n: iv._replace(method="normal-se", n=n)  # noqa: E731
    return [
        evaluate(CLAIMS["spectrum"], exact(spectrum_error), profile=profile, n_unit="matrices", floor=ROUND_OFF),
        evaluate(CLAIMS["autocorrelation"], exact(worst_z), profile=profile, n_unit="lags"),
        evaluate(CLAIMS["measured_xi"], normal(worst_xi, n_scan), profile=profile, n_unit="sequences per xi"),
        evaluate(CLAIMS["span_context"], normal(span_share, n_bayes), null=normal(isolated_share, n_bayes),
                 profile=profile, n_unit="sequences"),
    ]
