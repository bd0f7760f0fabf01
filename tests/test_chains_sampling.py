"""Tests of rgnb.chains.sampling: the sampler's stationary start and correlations."""

import math

import numpy as np
import pytest
import torch

from rgnb import chains


@pytest.mark.parametrize("kind", chains.KINDS)
def test_onehot_correlation_and_stationarity(kind):
    P = chains.make_chain(kind, 5, 3.0)
    x = chains.sample_chain(P, 20000, 16, generator=torch.Generator().manual_seed(2))
    est, se = chains.onehot_correlation(x, 5, 6)
    exact = chains.onehot_correlation_exact(P, np.arange(7))
    assert np.all(np.abs(est - exact) < 4.5 * se + 1e-12)
    counts = torch.bincount(x[:, 0], minlength=5).double() / x.shape[0]  # stationary start
    assert torch.allclose(counts, torch.full((5,), 0.2, dtype=torch.float64), atol=4.5 * math.sqrt(0.16 / 20000))


@pytest.mark.parametrize("call,match", [
    (lambda: chains.sample_chain(np.ones((3, 3)), 2, 2), "P must be row-stochastic"),
    (lambda: chains.sample_chain(np.eye(3) * 2, 2, 2), r"P must lie in \[0, 1\]"),
    (lambda: chains.sample_chain(np.eye(3), 0, 2), r"n_sequences must be an integer in \[1, "),
    (lambda: chains.sample_chain(np.eye(3), 2, 2, device="bogus"), r"device must be one of"),
    (lambda: chains.sample_chain(np.eye(3), 10**6, 10**6), r"n_sequences \* length asks for an array of"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_stationary_law_held_by_the_caller_gives_the_same_samples_and_bayes_floor():
    """rgnb.mlp.data.Chain computes pi once; passing it must change no number, and a wrong law is refused."""
    import torch

    from rgnb import chains
    from rgnb.mlp import data

    chain = data.chain_of("ring", 6, 3.0)
    np.testing.assert_allclose(chain.pi @ chain.P, chain.pi, atol=1e-12)
    a = chains.sample_chain(chain.P, 64, 12, generator=torch.Generator().manual_seed(3))
    b = chains.sample_chain(chain.P, 64, 12, generator=torch.Generator().manual_seed(3), stationary_law=chain.pi)
    assert torch.equal(a, b)
    mask = chains.sample_mask(64, 12, chains.DEFAULT_MASK, generator=torch.Generator().manual_seed(4))
    assert torch.equal(chains.masked_token_losses(chain.P, a, mask),
                       chains.masked_token_losses(chain.P, a, mask, chain.pi))
    with pytest.raises(ValueError, match="stationary_law"):
        chains.sample_chain(chain.P, 4, 4, stationary_law=np.full(6, 1 / 5))
    with pytest.raises(ValueError, match="stationary_law"):
        chains.sample_chain(chain.P, 4, 4, stationary_law=np.eye(6)[0])
