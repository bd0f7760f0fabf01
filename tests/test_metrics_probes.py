"""Tests of rgnb.metrics.probes: the task-relevant dimension from linear probes of every rank."""

import numpy as np

from rgnb import metrics


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
