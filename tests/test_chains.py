"""Properties of rgnb.chains: closed-form spectra, sampler statistics, the exact Bayes floor."""

import itertools
import math

import numpy as np
import pytest
import torch

from rgnb import chains
from rgnb.stats import Interval

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


# --------------------------------------------------------------------------------------------- #
# Basis independence: the slow-mode statistics never depend on an eigensolver's choice of basis
# --------------------------------------------------------------------------------------------- #
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


@pytest.mark.parametrize("kind,xi", [("potts", 1.0), ("potts", 5.0), ("ring", 2.0)])
def test_eigenspace_autocorrelation_is_lambda2_to_the_k(kind, xi):
    P = chains.make_chain(kind, 6, xi)
    x = chains.sample_chain(P, 20000, 24, generator=torch.Generator().manual_seed(1))
    est, se = chains.slow_mode_autocorrelation(x, P, 10)
    exact = np.exp(-np.arange(11) / xi)
    assert est[0] == pytest.approx(1.0, abs=1e-12)  # K(x, x) = d for these chains
    z = np.abs(est - exact) / np.maximum(se, 1e-12)
    assert z[1:].max() < 4.5, z


# --------------------------------------------------------------------------------------------- #
# The correlation-length scan and its verdict statistic
# --------------------------------------------------------------------------------------------- #
def test_correlation_length_scan_measures_the_requested_xi():
    xis = (0.5, 2.0, 7.0)
    scan = chains.correlation_length_scan("ring", 8, xis, 20000, 16, seed=3)
    assert set(scan) == {"xi", "estimate", "low", "high"}
    assert np.array_equal(scan["xi"], np.asarray(xis))
    assert np.all(scan["low"] < scan["estimate"]) and np.all(scan["estimate"] < scan["high"])
    assert np.all(np.abs(scan["estimate"] / scan["xi"] - 1) < 0.05)
    z = np.abs(scan["estimate"] - scan["xi"]) / ((scan["high"] - scan["low"]) / (2 * 1.96))
    assert z.max() < 4.0  # within the stated error
    again = chains.correlation_length_scan("ring", 8, xis, 20000, 16, seed=3)
    assert all(np.array_equal(scan[k], again[k]) for k in scan)  # seeded: reproducible
    other = chains.correlation_length_scan("ring", 8, xis, 20000, 16, seed=4)
    assert not np.array_equal(scan["estimate"], other["estimate"])  # and the seed is used


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


def test_relative_deviation_interval_and_the_worst_grid_point():
    inside = chains.relative_deviation_interval(Interval(1.02, 0.95, 1.10), 1.0)
    assert inside.estimate == pytest.approx(0.02) and inside.low == 0.0 and inside.high == pytest.approx(0.10)
    above = chains.relative_deviation_interval(Interval(2.4, 2.2, 2.6), 2.0)
    assert above.low == pytest.approx(0.1) and above.high == pytest.approx(0.3)
    below = chains.relative_deviation_interval(Interval(1.6, 1.5, 1.8), 2.0)
    assert below.low == pytest.approx(0.1) and below.high == pytest.approx(0.25)
    scan = {"xi": np.array([1.0, 2.0, 4.0]), "estimate": np.array([1.0, 2.4, 4.1]),
            "low": np.array([0.98, 2.2, 3.9]), "high": np.array([1.02, 2.6, 4.3])}
    worst = chains.worst_xi_deviation(scan)
    assert worst.high == pytest.approx(0.3) and worst.low == pytest.approx(0.1)


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
    (lambda: chains.MaskSpec(rate=0.0), r"mask_rate must be a finite number in \(0, 1\), got 0\.0"),
    (lambda: chains.MaskSpec(rate=1.0), r"mask_rate must be a finite number in \(0, 1\), got 1\.0"),
    (lambda: chains.MaskSpec(rate=0.2, span=0), r"span must be an integer in \[1, 4096\], got 0"),
    (lambda: chains.sample_chain(np.ones((3, 3)), 2, 2), "P must be row-stochastic"),
    (lambda: chains.sample_chain(np.eye(3) * 2, 2, 2), r"P must lie in \[0, 1\]"),
    (lambda: chains.sample_chain(np.eye(3), 0, 2), r"n_sequences must be an integer in \[1, "),
    (lambda: chains.sample_chain(np.eye(3), 2, 2, device="bogus"), r"device must be one of"),
    (lambda: chains.sample_chain(np.eye(3), 10**6, 10**6), r"n_sequences \* length asks for an array of"),
    (lambda: chains.bayes_masked_loss(np.eye(3), 1), r"length must be an integer in \[2, "),
    (lambda: chains.bayes_masked_loss(np.eye(3), 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.bayes_masked_loss(np.eye(3), 8, device="bogus"), r"device must be one of"),
    (lambda: chains.bayes_loss_by_distance(np.eye(3), 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.context_beyond_neighbours(np.eye(3), 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.correlation_length_scan("ring", 8, (1.0,), 10, 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.correlation_length_scan("ring", 8, (100.0,), 10, 8), r"xis must lie in \[0\.3, 50\]"),
    (lambda: chains.correlation_length_scan("ring", 8, (), 10, 8), "xis must hold at least one"),
    (lambda: chains.ratio_interval([1.0], [1.0]), "numerators and denominators must be"),
    (lambda: chains.autocorrelation(torch.zeros(2, 4, dtype=torch.int64), np.ones(3), 4),
     r"max_lag must be an integer in \[0, 3\], got 4"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


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
