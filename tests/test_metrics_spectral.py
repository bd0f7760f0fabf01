"""Tests of rgnb.metrics.spectral: effective rank, participation ratio, PCs for a variance share, of matrices and streams."""

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from rgnb import metrics


def matrix_with_singular_values(s, n=64, seed=0):
    """A centred (n, d) matrix with singular values s (d = len(s))."""
    rng = np.random.default_rng(seed)
    d = len(s)
    # Orthonormal columns orthogonal to the all-ones vector, so the matrix is centred.
    A = rng.standard_normal((n, d))
    A -= A.mean(0)
    U, _ = np.linalg.qr(A)
    V = ortho_group.rvs(d, random_state=seed) if d > 1 else np.ones((1, 1))
    return U @ np.diag(s) @ V.T


def test_erank_and_pr_closed_forms():
    s = np.array([3.0, 2.0, 1.0, 0.5])
    X = matrix_with_singular_values(s)
    p = s / s.sum()
    assert metrics.effective_rank(X) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-10)
    assert metrics.participation_ratio(X) == pytest.approx((s**2).sum() ** 2 / (s**4).sum(), rel=1e-10)
    # k equal singular values: both measures are exactly k.
    for k in (1, 3, 5):
        Xk = matrix_with_singular_values(np.r_[np.ones(k), np.zeros(6 - k)], seed=k)
        assert metrics.effective_rank(Xk) == pytest.approx(k, rel=1e-8)
        assert metrics.participation_ratio(Xk) == pytest.approx(k, rel=1e-8)


def test_erank_invariances_and_torch():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 12)) @ np.diag(np.linspace(0.1, 2, 12))
    e = metrics.effective_rank(X)
    Q = ortho_group.rvs(12, random_state=3)
    assert metrics.effective_rank(X @ Q) == pytest.approx(e, rel=1e-10)
    assert metrics.effective_rank(7.5 * X) == pytest.approx(e, rel=1e-10)
    assert metrics.effective_rank(X + 4.0) == pytest.approx(e, rel=1e-10)  # centred
    assert metrics.effective_rank(torch.tensor(X, dtype=torch.float64)) == pytest.approx(e, rel=1e-10)
    assert 1.0 <= e <= 12.0
    batch = np.stack([X, 2 * X, X @ Q])
    np.testing.assert_allclose(metrics.effective_rank(batch), e, rtol=1e-10)


def test_stream_modes():
    rng = np.random.default_rng(6)
    N, T, d = 50, 4, 8
    h = rng.standard_normal((N, T, d))
    per_pos = np.mean([metrics.effective_rank(h[:, t]) for t in range(T)])
    assert metrics.stream_erank(h, "position") == pytest.approx(per_pos, rel=1e-10)
    assert metrics.stream_erank(h, "pooled") == pytest.approx(metrics.effective_rank(h.mean(1)), rel=1e-10)
    assert metrics.stream_erank(h, "stacked") == pytest.approx(metrics.effective_rank(h.reshape(N * T, d)), rel=1e-10)
    assert metrics.stream_pr(h, "position") == pytest.approx(
        np.mean([metrics.participation_ratio(h[:, t]) for t in range(T)]), rel=1e-10)
    layers = np.stack([h, 2 * h, h[..., ::-1]])  # (L+1, N, T, d): erank invariant to all three
    np.testing.assert_allclose(metrics.stream_erank(layers), per_pos, rtol=1e-10)
    # Mean-pooling artifact: per-position features of rank 1 each, on different directions per
    # position, look rank-1 per position but high-rank after stacking.
    z = rng.standard_normal((N, T, 1))
    dirs = np.eye(d)[:T]                              # position t uses direction e_t
    hp = z * dirs[None]
    assert metrics.stream_erank(hp, "position") == pytest.approx(1.0, rel=1e-8)
    assert metrics.stream_erank(hp, "stacked") > 3.0


def test_singular_values_match_svd():
    rng = np.random.default_rng(10)
    for shape in ((50, 8), (6, 20), (3, 40, 5)):
        X = rng.standard_normal(shape) * np.geomspace(1, 1e-3, shape[-1])
        Xc = X - X.mean(-2, keepdims=True)
        k = min(shape[-2:])
        expected = np.linalg.svd(Xc, compute_uv=False)[..., :k]
        got = metrics.singular_values(X)[..., :k]
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9 * expected.max())


def test_pcs_for_variance():
    assert metrics.pcs_for_variance([3.0, 1.0, 1.0]) == 2          # 9/11 < 0.9 <= 10/11
    assert metrics.pcs_for_variance([1.0, 0.0]) == 1
    assert metrics.pcs_for_variance([1.0, 1.0, 1.0, 1.0], 0.5) == 2  # exactly half: ties do not round up
    assert metrics.pcs_for_variance([0.0, 0.0]) == 0
    with pytest.raises(ValueError, match="fraction"):
        metrics.pcs_for_variance([1.0], 0.0)


def test_erank_counts_tiny_singular_values_against_a_thresholdless_reference():
    """2048 x 1024, 24 O(1) singular values and 1000 just below 1e-6 of the largest: the erank equals the
    Roy-Vetterli value of the exact spectrum (50-digit mpmath, no cut-off) to 1e-10 relative; cutting the
    tiny ones off (the old s < 1e-6 s_max rule) moves it by ~1e-2."""
    mp = pytest.importorskip("mpmath")
    rng = np.random.default_rng(5)
    s = np.r_[np.linspace(1.0, 0.05, 24), np.linspace(0.5e-6, 0.999e-6, 1000)]
    A = rng.standard_normal((2048, s.size))
    A -= A.mean(0)
    U, _ = np.linalg.qr(A)  # orthonormal centred columns
    V, _ = np.linalg.qr(rng.standard_normal((s.size, s.size)))
    X = (U * s) @ V.T
    with mp.workdps(50):
        ps = [mp.mpf(x) / mp.fsum(s) for x in s]
        ref = float(mp.exp(-mp.fsum(q * mp.log(q) for q in ps)))
        ref_cut = float(mp.exp(-mp.fsum(q * mp.log(q) for q in [mp.mpf(x) / mp.fsum(s[:24]) for x in s[:24]])))
    assert ref - ref_cut > 1e-2  # the tiny values matter at this level
    assert metrics.effective_rank(X) == pytest.approx(ref, rel=1e-10)
    sv = metrics.singular_values(X)
    assert sv.dtype == np.float64 and sv.shape == (s.size,)
    np.testing.assert_allclose(sv[24:], np.sort(s[24:])[::-1], rtol=1e-6)
    # 0 log 0 = 0 exactly: exact zeros change nothing
    assert metrics.erank_from_singular(np.r_[s, np.zeros(50)]) == pytest.approx(ref, rel=1e-12)
