"""Tests of rgnb.metrics.drift: linear CKA, kernel drift between layers and its concentration."""

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from rgnb import metrics


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
