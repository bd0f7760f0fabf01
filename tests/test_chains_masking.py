"""Tests of rgnb.chains.masking: span masks, exact hiding probabilities, distance to view."""

import itertools
import math

import numpy as np
import pytest
import torch

from rgnb import chains


def test_mask_rate_span_and_at_least_one_hidden():
    spec = chains.MaskSpec(rate=0.3, span=4)
    mask = chains.sample_mask(50000, 32, spec, generator=torch.Generator().manual_seed(4))
    assert mask.any(1).all()
    per_position = mask.double().mean(0)
    assert torch.all((per_position - 0.3).abs() < 0.015)  # uniform rate, edges included
    runs = torch.diff(mask.int(), dim=1)
    assert mask[:, 1:-1].sum() > 0 and (runs == 1).sum() < mask.sum() / 3  # spans, not isolated masks
    few = chains.sample_mask(20000, 4, chains.MaskSpec(rate=0.01, span=1), generator=torch.Generator().manual_seed(5))
    assert few.any(1).all()


def test_distance_to_visible():
    mask = torch.tensor([[False, True, True, True, False], [True, True, False, False, False]])
    assert chains.distance_to_visible(mask).tolist() == [[0, 1, 2, 1, 0], [2, 1, 0, 0, 0]]


def _brute_force_position_probabilities(length: int, spec: chains.MaskSpec) -> np.ndarray:
    """Every pattern of span starts over length + span - 1 slots and every fallback start, weighted exactly."""
    q, span = spec.start_probability, spec.span
    n_slots = length + span - 1
    out = np.zeros(length)
    for starts in itertools.product((0, 1), repeat=n_slots):
        w = q ** sum(starts) * (1 - q) ** (n_slots - sum(starts))
        hidden = np.array([any(starts[j:j + span]) for j in range(length)])
        if hidden.any():
            out += w * hidden
        else:
            for f in range(length):
                out += w / length * ((np.arange(length) >= f) & (np.arange(length) < f + span))
    return out


@pytest.mark.parametrize("length,rate,span", [(1, 0.3, 1), (3, 0.3, 2), (5, 0.5, 3), (2, 0.2, 4), (6, 0.3, 4)])
def test_mask_position_probabilities_match_brute_force_enumeration(length, rate, span):
    spec = chains.MaskSpec(rate=rate, span=span)
    p = chains.mask_position_probabilities(length, spec)
    assert p.dtype == np.float64 and p.shape == (length,)
    np.testing.assert_allclose(p, _brute_force_position_probabilities(length, spec), rtol=1e-12, atol=0)
    assert chains.expected_mask_fraction(length, spec) == pytest.approx(p.mean(), rel=1e-15)


@pytest.mark.parametrize("length", [8, 16, 32])
def test_expected_mask_fraction_matches_a_large_monte_carlo(length):
    """The masked fraction exceeds rate (the fallback span of empty rows): 0.4523, 0.3416, 0.3053 at rate 0.3,
    span 4; 400 000 rows of sample_mask agree within 4 SE, per position and on average."""
    spec = chains.DEFAULT_MASK
    mask = chains.sample_mask(400_000, length, spec, generator=torch.Generator().manual_seed(11)).numpy()
    frac = mask.mean(1)
    exact = chains.expected_mask_fraction(length, spec)
    assert abs(frac.mean() - exact) < 4 * frac.std() / math.sqrt(frac.size)
    assert exact > spec.rate + 4 * frac.std() / math.sqrt(frac.size)  # not rate: the test tells them apart
    p = chains.mask_position_probabilities(length, spec)
    col = mask.mean(0)
    assert np.all(np.abs(col - p) < 4 * np.sqrt(p * (1 - p) / mask.shape[0]))
    assert {8: 0.4523, 16: 0.3416, 32: 0.3053}[length] == pytest.approx(exact, abs=5e-5)
    with pytest.raises(ValueError):
        chains.expected_mask_fraction(0, spec)
    with pytest.raises(ValueError):
        chains.mask_position_probabilities(8, "0.3")


@pytest.mark.parametrize("call,match", [
    (lambda: chains.MaskSpec(rate=0.0), r"mask_rate must be a finite number in \(0, 1\), got 0\.0"),
    (lambda: chains.MaskSpec(rate=1.0), r"mask_rate must be a finite number in \(0, 1\), got 1\.0"),
    (lambda: chains.MaskSpec(rate=0.2, span=0), r"span must be an integer in \[1, 4096\], got 0"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
