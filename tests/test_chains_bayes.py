"""Tests of rgnb.chains.bayes: forward-backward against enumeration, the Bayes floor's limits, the ratio interval."""

import itertools
import math

import numpy as np
import pytest
import torch

from rgnb import chains


def _brute_force_bayes(P, tokens, mask):
    """Posterior of each hidden position by enumerating every completion of the hidden tokens."""
    V = P.shape[0]
    pi = chains.stationary(P)
    hidden = np.flatnonzero(mask)
    post = np.zeros((len(tokens), V))
    for fill in itertools.product(range(V), repeat=len(hidden)):
        x = tokens.copy()
        x[hidden] = fill
        prob = pi[x[0]] * np.prod(P[x[:-1], x[1:]])
        post[np.arange(len(x)), x] += prob
    return post / post.sum(1, keepdims=True)


@pytest.mark.parametrize("kind,xi", [("potts", 1.5), ("ring", 4.0)])
def test_forward_backward_matches_enumeration(kind, xi):
    V, T = 4, 6
    P = chains.make_chain(kind, V, xi)
    gen = torch.Generator().manual_seed(6)
    tokens = chains.sample_chain(P, 8, T, generator=gen)
    mask = chains.sample_mask(8, T, chains.MaskSpec(0.5, 2), generator=gen)
    post = chains.bayes_posteriors(P, tokens, mask).numpy()
    for i in range(8):
        assert np.allclose(post[i], _brute_force_bayes(P, tokens[i].numpy(), mask[i].numpy()), atol=1e-12)
    losses = chains.masked_token_losses(P, tokens, mask)
    assert (losses[~mask] == 0).all() and (losses[mask] > 0).all()


def test_bayes_loss_limits():
    """Short correlation length: the floor approaches ln V; long: far below it."""
    V = 8
    spec = chains.MaskSpec(0.3, 4)
    near_iid = chains.bayes_masked_loss(chains.make_chain("potts", V, 0.3), 16, spec, n_sequences=4000)
    assert abs(near_iid.estimate - math.log(V)) < 0.01
    long = chains.bayes_masked_loss(chains.make_chain("potts", V, 20.0), 16, spec, n_sequences=4000)
    assert long.high < math.log(V) - 1.0
    by_distance = chains.bayes_loss_by_distance(chains.make_chain("potts", V, 7.0), 16, spec, n_sequences=4000)
    assert by_distance["share"].sum() == pytest.approx(1.0)
    loss = by_distance["loss"][by_distance["share"] > 0.01]
    assert np.all(np.diff(loss) > 0)  # farther from what is visible, harder to predict


def test_ratio_interval_closed_form():
    a = np.array([1.0, 2.0, 3.0, 6.0])
    b = np.array([2.0, 2.0, 4.0, 4.0])
    ci = chains.ratio_interval(a, b)
    r = 12.0 / 12.0
    se = np.sqrt(np.var(a - r * b, ddof=1) / 4) / 3.0
    assert ci.estimate == r
    assert ci.high - r == pytest.approx(1.959963984540054 * se, rel=1e-6)
    assert r - ci.low == pytest.approx(1.959963984540054 * se, rel=1e-6)
    mixed = chains.ratio_interval([1.0, 2.0, 0.5], [-1.0, 3.0, 1.0])  # per-unit denominators may be negative
    assert mixed.estimate == pytest.approx(3.5 / 3.0)


@pytest.mark.parametrize("call,match", [
    (lambda: chains.bayes_masked_loss(np.eye(3), 1), r"length must be an integer in \[2, "),
    (lambda: chains.bayes_masked_loss(np.eye(3), 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.bayes_masked_loss(np.eye(3), 8, device="bogus"), r"device must be one of"),
    (lambda: chains.bayes_loss_by_distance(np.eye(3), 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.ratio_interval([1.0], [1.0]), "numerators and denominators must be"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
