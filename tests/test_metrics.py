"""Tests of rgnb.metrics: closed forms, invariances, and bad inputs."""

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group, spearmanr

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


def test_linear_cka_properties():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 10))
    Q = ortho_group.rvs(10, random_state=4)
    assert metrics.linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)
    assert metrics.linear_cka(X, 3.0 * X @ Q + 1.0) == pytest.approx(1.0, abs=1e-10)
    # Independent features, large N: CKA ~ d/N scale, near 0.
    A = rng.standard_normal((20000, 5))
    B = rng.standard_normal((20000, 5))
    assert metrics.linear_cka(A, B) < 0.01
    # Symmetric, in [0, 1], batched, accepts torch.
    Y = X @ rng.standard_normal((10, 7))
    c = metrics.linear_cka(X, Y)
    assert 0 <= c <= 1
    assert metrics.linear_cka(Y, X) == pytest.approx(c, rel=1e-12)
    assert metrics.linear_cka(torch.tensor(X), torch.tensor(Y)) == pytest.approx(c, rel=1e-10)
    Z = X @ rng.standard_normal((10, 10))
    cz = metrics.linear_cka(X, Z)
    np.testing.assert_allclose(metrics.linear_cka(np.stack([X, X]), np.stack([Z, X])), [cz, 1.0], rtol=1e-10)


def test_linear_cka_matches_kernel_definition():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 6))
    H = np.eye(30) - 1 / 30
    K, L = H @ X @ X.T @ H, H @ Y @ Y.T @ H
    expected = (K * L).sum() / np.sqrt((K * K).sum() * (L * L).sum())
    assert metrics.linear_cka(X, Y) == pytest.approx(expected, rel=1e-10)


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


def test_kernel_drift_profile():
    rng = np.random.default_rng(7)
    N, T, d = 40, 3, 6
    h0 = rng.standard_normal((N, T, d))
    Q = ortho_group.rvs(d, random_state=8)
    h1 = h0 @ Q                                       # same kernel: zero drift
    h2 = rng.standard_normal((N, T, d))               # a new representation: large drift
    h3 = 2.0 * h2                                     # rescaled: CKA drift 0, Frobenius change 3
    drift = metrics.kernel_drift(np.stack([h0, h1, h2, h3]))
    assert drift["cka"].shape == (3,)
    assert drift["cka"][0] == pytest.approx(0.0, abs=1e-10)
    assert drift["frobenius"][0] == pytest.approx(0.0, abs=1e-6)
    assert drift["cka"][1] > 0.5
    assert drift["cka"][2] == pytest.approx(0.0, abs=1e-10)
    assert drift["frobenius"][2] == pytest.approx(3.0, rel=1e-8)
    # Frobenius against the explicit N x N kernels, position 0.
    K1 = h1[:, 0] @ h1[:, 0].T / d
    K2 = h2[:, 0] @ h2[:, 0].T / d
    expected = np.mean([np.linalg.norm(h2[:, t] @ h2[:, t].T - h1[:, t] @ h1[:, t].T) /
                        np.linalg.norm(h1[:, t] @ h1[:, t].T) for t in range(T)])
    assert np.linalg.norm(K2 - K1) > 0
    assert drift["frobenius"][1] == pytest.approx(expected, rel=1e-8)
    # Batched over a leading axis.
    both = metrics.kernel_drift(np.stack([np.stack([h0, h1, h2, h3])] * 2))
    np.testing.assert_allclose(both["cka"], np.stack([drift["cka"]] * 2))


def test_drift_concentration_synthetic():
    one = metrics.drift_concentration([0.0, 0.0, 1.0, 0.0])
    assert one.top1 == pytest.approx(1.0) and one.top2 == pytest.approx(1.0)
    assert one.effective == pytest.approx(1.0) and one.argmax == 2
    flat = metrics.drift_concentration(np.ones(8))
    assert flat.top1 == pytest.approx(1 / 8) and flat.top2 == pytest.approx(2 / 8)
    assert flat.effective == pytest.approx(8.0)
    two = metrics.drift_concentration([0.5, 0.01, 0.01, 0.5])
    assert two.top2 == pytest.approx(1.0 / 1.02)
    assert 1.9 < two.effective < 2.1
    batch = metrics.drift_concentration(np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(batch.effective, [1.0, 3.0])
    np.testing.assert_array_equal(batch.argmax, [1, 0])
    assert metrics.plateau_level([0.5, 0.02, 0.03, 0.4]) == pytest.approx(0.03)
    assert metrics.plateau_level([0.5, 0.4]) == 0.0


def test_profile_shape_statistics():
    rng = np.random.default_rng(9)
    x = rng.standard_normal(10)
    y = x**3 + 0.1 * rng.standard_normal(10)
    assert metrics.spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, rel=1e-10)
    assert metrics.depth_spearman([5.0, 4.0, 3.0, 1.0]) == pytest.approx(-1.0)
    assert metrics.nonincreasing_share([5.0, 4.0, 4.5, 1.0]) == pytest.approx(2 / 3)
    assert metrics.collapse_ratio([4.0, 1.0, 2.0]) == pytest.approx(0.5)
    assert metrics.collapse_ratio([4.0, 1.0, 2.0], reduce="min") == pytest.approx(0.25)
    np.testing.assert_allclose(metrics.depth_spearman(np.array([[1.0, 2, 3], [3, 2, 1]])), [1.0, -1.0])


def test_seed_ci_and_band():
    ci = metrics.seed_ci([1.0, 2.0, 3.0, 4.0])
    assert ci.estimate == pytest.approx(2.5) and ci.low < 2.5 < ci.high
    mean, lo, hi = metrics.seed_band(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]))
    np.testing.assert_allclose(mean, [2.0, 0.0])
    assert (lo <= mean).all() and (hi >= mean).all() and hi[1] == 0.0


@pytest.mark.parametrize("call, name", [
    (lambda: metrics.effective_rank(np.ones(5)), "X"),
    (lambda: metrics.effective_rank(np.ones((1, 5))), "N >= 2"),
    (lambda: metrics.participation_ratio(np.ones((1, 3))), "N >= 2"),
    (lambda: metrics.linear_cka(np.ones((5, 2)), np.ones((4, 2))), "X and Y"),
    (lambda: metrics.linear_cka(np.ones((1, 2)), np.ones((1, 2))), "N >= 2"),
    (lambda: metrics.stream_erank(np.ones((4, 3))), "h"),
    (lambda: metrics.stream_erank(np.ones((1, 3, 2))), "N >= 2"),
    (lambda: metrics.stream_erank(np.ones((4, 3, 2)), mode="mean"), "mode"),
    (lambda: metrics.stream_spectrum_measure(np.ones((4, 3, 2)), measure="rank"), "measure"),
    (lambda: metrics.kernel_drift(np.ones((4, 3, 2))), "h"),
    (lambda: metrics.drift_concentration([-1.0, 2.0]), "profile"),
    (lambda: metrics.collapse_ratio([1.0]), "profile"),
    (lambda: metrics.seed_ci([1.0]), "values"),
    (lambda: metrics.effective_rank(np.array([[np.nan, 1.0], [1.0, 1.0]])), "X"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_singular_values_match_svd():
    rng = np.random.default_rng(10)
    for shape in ((50, 8), (6, 20), (3, 40, 5)):
        X = rng.standard_normal(shape) * np.geomspace(1, 1e-3, shape[-1])
        Xc = X - X.mean(-2, keepdims=True)
        k = min(shape[-2:])
        expected = np.linalg.svd(Xc, compute_uv=False)[..., :k]
        got = metrics.singular_values(X)[..., :k]
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9 * expected.max())


# --------------------------------------------------------------------------------------------- #
# Protocol v2
# --------------------------------------------------------------------------------------------- #
def test_masked_rows_selects_exactly_the_masked_rows_of_a_position():
    h = np.arange(2 * 5 * 3 * 2, dtype=float).reshape(2, 5, 3, 2)  # (L+1, N, T, d)
    mask = np.zeros((5, 3), dtype=bool)
    mask[[0, 3], 1] = True
    mask[4, 2] = True
    rows = metrics.masked_rows(h, mask, 1)
    assert rows.shape == (2, 2, 2)
    np.testing.assert_array_equal(rows, h[:, [0, 3], 1, :])
    np.testing.assert_array_equal(metrics.masked_rows(h, mask, 2), h[:, [4], 2, :])
    with pytest.raises(ValueError, match="mask"):
        metrics.masked_rows(h, mask.astype(int), 1)
    with pytest.raises(ValueError, match="t must"):
        metrics.masked_rows(h, mask, 3)


def test_masked_dimension_profile_ignores_visible_rows_and_constant_layers():
    rng = np.random.default_rng(3)
    N, T, d = 200, 4, 6
    h = np.zeros((3, N, T, d))
    mask = np.zeros((N, T), dtype=bool)
    mask[:, 1] = True
    # layer 0: identical rows (as h^0 on masked rows); layer 1: 2-D spread; layer 2: 5-D spread
    h[1, :, :, :2] = rng.standard_normal((N, T, 2))
    h[2, :, :, :5] = rng.standard_normal((N, T, 5))
    h[:, :, 3, :] = 100 * rng.standard_normal((3, N, d))  # visible rows: huge full-rank noise, must be ignored
    prof = metrics.masked_dimension_profile(h, mask)
    assert prof["erank_raw"][0] == 0.0 and prof["pc90_raw"][0] == 0.0
    assert 1.9 < prof["erank_raw"][1] <= 2.0 and prof["pc90_raw"][1] == 2.0
    assert 4.7 < prof["erank_raw"][2] <= 5.0 and prof["pr_raw"][2] > 4.5 and prof["pc90_raw"][2] == 5.0
    assert prof["erank_ln"][2] < 5.0 + 1e-9  # LN(X) cannot add a direction beyond the span of X and 1
    drift = metrics.masked_drift_profile(h, mask)
    assert drift.shape == (2,) and np.all((drift >= 0) & (drift <= 1))


def test_pcs_for_variance():
    assert metrics.pcs_for_variance([3.0, 1.0, 1.0]) == 2          # 9/11 < 0.9 <= 10/11
    assert metrics.pcs_for_variance([1.0, 0.0]) == 1
    assert metrics.pcs_for_variance([1.0, 1.0, 1.0, 1.0], 0.5) == 2  # exactly half: ties do not round up
    assert metrics.pcs_for_variance([0.0, 0.0]) == 0
    with pytest.raises(ValueError, match="fraction"):
        metrics.pcs_for_variance([1.0], 0.0)


def test_task_relevant_dimension_recovers_a_known_rank():
    rng = np.random.default_rng(0)
    n, d, V = 3000, 16, 6
    for k in (1, 3):
        X = rng.standard_normal((n, d))
        P = np.zeros((d, V))
        P[:k] = 3.0 * rng.standard_normal((k, V))
        logits = X @ P
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        y = (p.cumsum(1) > rng.random((n, 1))).argmax(1)
        r, full = metrics.task_relevant_dimension(X[:1500], y[:1500], X[1500:], y[1500:], V, tol=0.01)
        assert r == k, (k, r)
        losses = metrics.probe_losses(X[:1500], y[:1500], X[1500:], y[1500:], V)
        assert losses.shape == (V,) and losses[0] > losses[k] + 0.1
        assert metrics.dimension_from_losses(losses, 0.01) == k
        # a tolerance wider than the whole gain from the context: the prior suffices
        assert metrics.task_relevant_dimension(X[:1500], y[:1500], X[1500:], y[1500:], V, tol=5.0)[0] == 0
    # labels independent of X: the prior is within tolerance, dimension 0
    y = rng.integers(0, V, n)
    assert metrics.task_relevant_dimension(X[:1500], y[:1500], X[1500:], y[1500:], V, tol=0.01)[0] == 0


def test_slope_ci_matches_linregress():
    from scipy.stats import linregress, t as student_t
    rng = np.random.default_rng(5)
    x = np.repeat(np.arange(5.0), 4)
    y = 0.7 * x + rng.standard_normal(x.size)
    slope, lo, hi = metrics.slope_ci(x, y)
    ref = linregress(x, y)
    half = student_t.ppf(0.975, x.size - 2) * ref.stderr
    assert slope == pytest.approx(ref.slope) and lo == pytest.approx(ref.slope - half) and hi == pytest.approx(ref.slope + half)
    with pytest.raises(ValueError, match="constant"):
        metrics.slope_ci(np.ones(5), y[:5])


@pytest.mark.parametrize("rtol", [float("nan"), -0.1, float("inf"), 2.0])
def test_nonincreasing_share_refuses_bad_rtol(rtol):
    with pytest.raises(ValueError, match="rtol"):
        metrics.nonincreasing_share([3.0, 2.0, 1.0], rtol=rtol)


def test_nonincreasing_share_rtol():
    assert metrics.nonincreasing_share([1.0, 1.05, 1.0], rtol=0.1) == 1.0
    assert metrics.nonincreasing_share([1.0, 1.05, 1.0], rtol=0.0) == 0.5


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
