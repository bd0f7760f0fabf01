"""Properties of rgnb.chains: closed-form spectra, sampler statistics, the exact Bayes floor."""

import itertools
import math

import numpy as np
import pytest
import torch

from rgnb import chains

CASES = [(kind, V, xi) for kind in chains.KINDS for V in (3, 8, 13) for xi in (0.3, 1.0, 7.0, 50.0)]


@pytest.mark.parametrize("kind,V,xi", CASES)
def test_closed_form_spectrum_matches_numerical_eigenvalues(kind, V, xi):
    P = chains.make_chain(kind, V, xi)
    assert P.shape == (V, V) and P.dtype == np.float64
    assert (P >= 0).all() and np.allclose(P.sum(1), 1.0, atol=1e-12)
    numeric = np.sort(np.linalg.eigvals(P).real)
    assert np.allclose(np.sort(chains.spectrum(kind, V, xi)), numeric, atol=1e-10)
    assert chains.correlation_length(P) == pytest.approx(xi, rel=1e-9)


def test_ring_has_several_modes_with_their_own_correlation_lengths():
    lam = chains.spectrum("ring", 12, 5.0)
    xi_k = -1.0 / np.log(lam[1:7])
    assert np.all(np.diff(xi_k) < 0)  # modes k = 1..6 decay ever faster
    assert xi_k[0] == pytest.approx(5.0) and xi_k[-1] < 1.0


@pytest.mark.parametrize("kind,xi", [("potts", 1.0), ("potts", 5.0), ("ring", 2.0)])
def test_sampled_slow_mode_autocorrelation_is_lambda2_to_the_k(kind, xi):
    P = chains.make_chain(kind, 6, xi)
    x = chains.sample_chain(P, 20000, 24, generator=torch.Generator().manual_seed(1))
    est, se = chains.autocorrelation(x, chains.slow_mode(P), 10)
    exact = np.exp(-np.arange(11) / xi)
    z = np.abs(est - exact) / np.maximum(se, 1e-12)
    assert z[1:].max() < 4.5, z  # 10 lags, each within 4.5 standard errors


@pytest.mark.parametrize("kind", chains.KINDS)
def test_onehot_correlation_and_stationarity(kind):
    P = chains.make_chain(kind, 5, 3.0)
    x = chains.sample_chain(P, 20000, 16, generator=torch.Generator().manual_seed(2))
    est, se = chains.onehot_correlation(x, 5, 6)
    exact = chains.onehot_correlation_exact(P, np.arange(7))
    assert np.all(np.abs(est - exact) < 4.5 * se + 1e-12)
    counts = torch.bincount(x[:, 0], minlength=5).double() / x.shape[0]  # stationary start
    assert torch.allclose(counts, torch.full((5,), 0.2, dtype=torch.float64), atol=4.5 * math.sqrt(0.16 / 20000))


def test_potts_mutual_information_closed_form():
    V, xi = 4, 2.0
    P = chains.make_chain("potts", V, xi)
    lags = np.arange(1, 6)
    lam = np.exp(-lags / xi)
    same, other = lam + (1 - lam) / V, (1 - lam) / V
    exact = same * np.log(V * same) + (V - 1) * other * np.log(V * other)
    assert np.allclose(chains.mutual_information(P, lags), exact, rtol=1e-12)


def test_measured_correlation_length_covers_the_requested_one():
    P = chains.make_chain("ring", 8, 3.0)
    x = chains.sample_chain(P, 20000, 16, generator=torch.Generator().manual_seed(3))
    ci = chains.measured_correlation_length(x, P)
    assert ci.low < 3.0 < ci.high and ci.high - ci.low < 0.3


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


def test_distance_to_visible():
    mask = torch.tensor([[False, True, True, True, False], [True, True, False, False, False]])
    assert chains.distance_to_visible(mask).tolist() == [[0, 1, 2, 1, 0], [2, 1, 0, 0, 0]]


@pytest.mark.parametrize("call,match", [
    (lambda: chains.make_chain("potts", 1, 1.0), "vocab_size"),
    (lambda: chains.make_chain("ring", 2, 1.0), "vocab_size"),
    (lambda: chains.make_chain("potts", 4, 0.0), "xi"),
    (lambda: chains.make_chain("potts", 4, -1.0), "xi"),
    (lambda: chains.make_chain("potts", 4, 1e3), "xi must lie in"),
    (lambda: chains.make_chain("ising", 4, 1.0), "kind"),
    (lambda: chains.make_chain("potts", 4, 1.0, sign=-1), "options"),
    (lambda: chains.MaskSpec(rate=0.0), "mask_rate"),
    (lambda: chains.MaskSpec(rate=1.0), "mask_rate"),
    (lambda: chains.MaskSpec(rate=0.2, span=0), "span"),
    (lambda: chains.sample_chain(np.ones((3, 3)), 2, 2), "row-stochastic"),
    (lambda: chains.sample_chain(np.eye(3), 0, 2), "n_sequences"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
