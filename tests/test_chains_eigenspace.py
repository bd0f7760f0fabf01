"""Tests of rgnb.chains.eigenspace: the basis-free slow eigenspace, and that no slow-mode statistic
(nor the chain-spectra chapter's rows) depends on an eigensolver's choice of basis."""

import math

import numpy as np
import pytest
import torch

from rgnb import chains


def _rotating(real, seed):
    """Wrap an eigensolver so every degenerate eigenspace comes back in a random orthonormal basis
    (and every simple eigenvector with a random sign): an equally valid answer LAPACK could give."""
    rng = np.random.default_rng(seed)

    def solver(a, *args, **kwargs):
        w, v = real(a, *args, **kwargs)
        v = np.array(v, copy=True)
        done = np.zeros(len(w), dtype=bool)
        for i in range(len(w)):
            if done[i]:
                continue
            group = np.flatnonzero(np.abs(w - w[i]) < 1e-8)
            done[group] = True
            q, _ = np.linalg.qr(rng.standard_normal((len(group), len(group))))
            v[:, group] = v[:, group] @ q
        return w, v

    return solver


def _slow_statistics():
    out = {}
    for kind in chains.KINDS:
        P = chains.make_chain(kind, 8, 2.0)
        x = chains.sample_chain(P, 3000, 12, generator=torch.Generator().manual_seed(11))
        out[kind, "mode"] = chains.slow_mode(P)
        out[kind, "kernel"] = chains.slow_eigenspace(P).kernel
        out[kind, "acf"] = np.concatenate(chains.slow_mode_autocorrelation(x, P, 5))
        scan = chains.correlation_length_scan(kind, 8, (1.0, 5.0), 3000, 12, seed=4)
        out[kind, "scan"] = np.stack([scan[k] for k in ("estimate", "low", "high")])
        worst = chains.worst_xi_deviation(scan)
        out[kind, "worst"] = np.array([worst.estimate, worst.low, worst.high])
    return out


def _eig_slow_mode(P):
    """The former, basis-dependent slow mode: whichever eigenvector eig returns for lambda_2."""
    w, v = np.linalg.eig(P)
    f = np.real(v[:, np.argsort(-np.abs(w))[1]])
    f = f - f.mean()
    return f / np.sqrt((f**2).mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_slow_mode_statistics_are_identical_under_any_eigenbasis(monkeypatch, seed):
    reference = _slow_statistics()
    monkeypatch.setattr(np.linalg, "eig", _rotating(np.linalg.eig, seed))
    monkeypatch.setattr(np.linalg, "eigh", _rotating(np.linalg.eigh, seed))
    rotated = _slow_statistics()
    for key, value in reference.items():
        assert np.array_equal(value, rotated[key]), key  # bit for bit


def test_the_rotation_harness_catches_a_basis_dependent_statistic(monkeypatch):
    P = chains.make_chain("potts", 8, 2.0)
    x = chains.sample_chain(P, 3000, 12, generator=torch.Generator().manual_seed(11))
    before = chains.autocorrelation(x, _eig_slow_mode(P), 3)[1]
    monkeypatch.setattr(np.linalg, "eig", _rotating(np.linalg.eig, 0))
    after = chains.autocorrelation(x, _eig_slow_mode(P), 3)[1]
    assert not np.allclose(before, after)  # the standard error moved: the old statistic had no fixed value


@pytest.mark.parametrize("V,xi", [(3, 0.5), (8, 2.0), (13, 50.0)])
def test_slow_eigenspace_closed_forms(V, xi):
    lam = math.exp(-1.0 / xi)
    potts = chains.slow_eigenspace(chains.make_chain("potts", V, xi))
    assert potts.multiplicity == V - 1 and potts.eigenvalue == pytest.approx(lam, rel=1e-12)
    assert np.allclose(potts.kernel, V * np.eye(V) - 1.0, atol=1e-9)  # projector onto centred functions
    ring = chains.slow_eigenspace(chains.make_chain("ring", V, xi))
    a = np.arange(V)
    assert ring.multiplicity == 2 and ring.eigenvalue == pytest.approx(lam, rel=1e-9)
    assert np.allclose(ring.kernel, 2 * np.cos(2 * np.pi * (a[:, None] - a[None, :]) / V), atol=1e-9)
    f = chains.slow_mode(chains.make_chain("ring", V, xi))
    assert np.allclose(f, math.sqrt(2) * np.cos(2 * np.pi * a / V), atol=1e-9)  # the canonical vector


def test_slow_eigenspace_refuses_irreversible_and_reducible_chains():
    cycle = np.roll(np.eye(3), 1, axis=1) * 0.5 + np.eye(3) * 0.5  # a biased walk around a ring
    with pytest.raises(ValueError, match="reversible"):
        chains.slow_eigenspace(cycle)
    with pytest.raises(ValueError, match="irreducible"):
        chains.slow_eigenspace(np.eye(3))


def _chapter_rows():
    """The chain-spectra chapter's claims rows (rgnb.spectra) at toy sizes."""
    from rgnb import spectra

    V = 6
    records = spectra.autocorrelation_study(V, (1.0, 4.0), 3000, 12, 4, torch.Generator().manual_seed(5))
    scans = [chains.correlation_length_scan(kind, V, (1.0, 4.0), 3000, 12, seed=7) for kind in chains.KINDS]
    worst_xi = max((chains.worst_xi_deviation(s) for s in scans), key=lambda d: d.high)
    P = chains.make_chain("potts", V, 4.0)
    span = chains.context_beyond_neighbours(P, 12, n_sequences=300, seed=1)
    isolated = chains.context_beyond_neighbours(P, 12, chains.MaskSpec(0.15, 1), n_sequences=300, seed=1)
    return spectra.chapter_claims(spectrum_error=chains.spectrum_error(vocab_sizes=(3, 6)),
                                  worst_z=spectra.worst_autocorrelation_z(records), worst_xi=worst_xi,
                                  span_share=span, isolated_share=isolated, n_scan=3000, n_bayes=300,
                                  profile="smoke")


def test_chain_spectra_claims_rows_are_identical_under_any_eigenbasis(monkeypatch):
    reference = _chapter_rows()
    monkeypatch.setattr(np.linalg, "eig", _rotating(np.linalg.eig, 3))
    monkeypatch.setattr(np.linalg, "eigh", _rotating(np.linalg.eigh, 3))
    assert _chapter_rows() == reference
