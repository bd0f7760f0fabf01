"""Tests of rgnb.chains.measured: correlations and the correlation length measured on samples."""

import math

import numpy as np
import pytest
import torch

from rgnb import chains


@pytest.mark.parametrize("kind,xi", [("potts", 1.0), ("potts", 5.0), ("ring", 2.0)])
def test_sampled_slow_mode_autocorrelation_is_lambda2_to_the_k(kind, xi):
    P = chains.make_chain(kind, 6, xi)
    x = chains.sample_chain(P, 20000, 24, generator=torch.Generator().manual_seed(1))
    est, se = chains.autocorrelation(x, chains.slow_mode(P), 10)
    exact = np.exp(-np.arange(11) / xi)
    z = np.abs(est - exact) / np.maximum(se, 1e-12)
    assert z[1:].max() < 4.5, z  # 10 lags, each within 4.5 standard errors


def test_measured_correlation_length_covers_the_requested_one():
    P = chains.make_chain("ring", 8, 3.0)
    x = chains.sample_chain(P, 20000, 16, generator=torch.Generator().manual_seed(3))
    ci = chains.measured_correlation_length(x, P)
    assert ci.low < 3.0 < ci.high and ci.high - ci.low < 0.3


@pytest.mark.parametrize("kind,xi", [("potts", 1.0), ("potts", 5.0), ("ring", 2.0)])
def test_eigenspace_autocorrelation_is_lambda2_to_the_k(kind, xi):
    P = chains.make_chain(kind, 6, xi)
    x = chains.sample_chain(P, 20000, 24, generator=torch.Generator().manual_seed(1))
    est, se = chains.slow_mode_autocorrelation(x, P, 10)
    exact = np.exp(-np.arange(11) / xi)
    assert est[0] == pytest.approx(1.0, abs=1e-12)  # K(x, x) = d for these chains
    z = np.abs(est - exact) / np.maximum(se, 1e-12)
    assert z[1:].max() < 4.5, z


def test_measured_correlation_length_interval_is_the_delta_method():
    P = chains.make_chain("potts", 8, 3.0)
    x = chains.sample_chain(P, 5000, 16, generator=torch.Generator().manual_seed(3))
    est, se = chains.slow_mode_autocorrelation(x, P, 1)
    ci = chains.measured_correlation_length(x, P)
    lam = est[1]
    assert ci.estimate == pytest.approx(-1 / math.log(lam), rel=1e-12)
    half = 1.959963984540054 * se[1] / (lam * math.log(lam) ** 2)
    assert (ci.high - ci.low) / 2 == pytest.approx(half, rel=1e-3)
    assert ci.low < 3.0 < ci.high


@pytest.mark.parametrize("call,match", [
    (lambda: chains.autocorrelation(torch.zeros(2, 4, dtype=torch.int64), np.ones(3), 4),
     r"max_lag must be an integer in \[0, 3\], got 4"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
