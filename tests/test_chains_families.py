"""Tests of rgnb.chains.families: closed-form spectra, modes and exact mutual information."""

import numpy as np
import pytest

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


def test_potts_mutual_information_closed_form():
    V, xi = 4, 2.0
    P = chains.make_chain("potts", V, xi)
    lags = np.arange(1, 6)
    lam = np.exp(-lags / xi)
    same, other = lam + (1 - lam) / V, (1 - lam) / V
    exact = same * np.log(V * same) + (V - 1) * other * np.log(V * other)
    assert np.allclose(chains.mutual_information(P, lags), exact, rtol=1e-12)


@pytest.mark.parametrize("call,match", [
    (lambda: chains.make_chain("potts", 1, 1.0), r"vocab_size must be an integer in \[2, 65536\], got 1"),
    (lambda: chains.make_chain("ring", 2, 1.0), r"vocab_size must be an integer in \[3, 65536\], got 2"),
    (lambda: chains.make_chain("ring", 20000, 1.0), r"vocab_size asks for an array of 11\.9 GiB, above the limit"),
    (lambda: chains.make_chain("ring", 10**6, 1.0), r"vocab_size must be an integer in \[3, 65536\]"),
    (lambda: chains.make_chain("potts", 4, 0.0), r"xi must be a finite number in \[0\.3, 50\], got 0\.0"),
    (lambda: chains.make_chain("potts", 4, -1.0), r"xi must be a finite number in \[0\.3, 50\], got -1\.0"),
    (lambda: chains.make_chain("potts", 4, float("nan")), r"xi must be a finite number in \[0\.3, 50\], got nan"),
    (lambda: chains.make_chain("potts", 4, 1e3), r"xi must be a finite number in \[0\.3, 50\], got 1000\.0"),
    (lambda: chains.make_chain("ising", 4, 1.0), r"kind must be one of \('potts', 'ring'\), got 'ising'"),
    (lambda: chains.make_chain("potts", 4, 1.0, sign=-1), r"kind='potts' takes no options, got \['sign'\]"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
