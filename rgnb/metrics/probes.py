"""Task-relevant dimension: held-out losses of linear probes of every rank on masked rows.

Rows are masked positions and labels the true tokens; a probe of rank ``r`` maps features through
``W = A B`` (``A`` d x r); the task-relevant dimension is the smallest rank within a tolerance of
the full-rank probe.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rgnb.metrics.arrays import _to_numpy
from rgnb.validate import check_float, check_int


def _fit_probe(X: torch.Tensor, y: torch.Tensor, n_classes: int, rank: int | None, init=None,
               l2: float = 1e-3, iters: int = 60):
    """Multinomial logistic regression on X (n, d) -> logits X A B + b (rank ``rank``; full if None), float64."""
    d = X.shape[1]
    if rank is None:
        W = torch.zeros(d, n_classes, dtype=torch.float64, requires_grad=True)
        factors = [W]
    else:
        A0, B0 = init
        A = A0[:, :rank].contiguous().clone().requires_grad_(True)
        B = B0[:rank].contiguous().clone().requires_grad_(True)
        factors = [A, B]
    b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(factors + [b], lr=1.0, max_iter=iters, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=10, line_search_fn="strong_wolfe")

    def weight():
        return factors[0] if rank is None else factors[0] @ factors[1]

    def closure():
        opt.zero_grad()
        W = weight()
        loss = torch.nn.functional.cross_entropy(X @ W + b, y) + l2 * (W**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return weight().detach(), b.detach()


class _Probe:
    """Linear probes of every rank on one (fit, eval) split (see :func:`probe_losses`)."""

    def __init__(self, X_fit: Any, y_fit: Any, X_eval: Any, y_eval: Any, n_classes: int, iters: int):
        Xf, Xe = _to_numpy(X_fit, "X_fit"), _to_numpy(X_eval, "X_eval")
        if Xf.ndim != 2 or Xe.ndim != 2 or Xf.shape[1] != Xe.shape[1]:
            raise ValueError(f"X_fit and X_eval must be (n, d) with the same d, got {Xf.shape} and {Xe.shape}")
        self.n_classes = check_int("n_classes", n_classes, 2)
        self.iters = check_int("iters", iters, 1, 10_000)
        self.yf = torch.as_tensor(np.asarray(y_fit), dtype=torch.int64)
        self.ye = torch.as_tensor(np.asarray(y_eval), dtype=torch.int64)
        if self.yf.shape != (Xf.shape[0],) or self.ye.shape != (Xe.shape[0],):
            raise ValueError("y_fit and y_eval must have one label per row of X_fit and X_eval")
        mu, sd = Xf.mean(0), Xf.std(0) + 1e-8
        self.Xf = torch.from_numpy((Xf - mu) / sd)
        self.Xe = torch.from_numpy((Xe - mu) / sd)
        self.max_rank = min(Xf.shape[1], self.n_classes - 1)
        W, b = _fit_probe(self.Xf, self.yf, self.n_classes, None, iters=2 * self.iters)
        self.full = self._eval(W, b)
        U, S, Vh = torch.linalg.svd(W - W.mean(1, keepdim=True), full_matrices=False)
        root = S.sqrt()
        self.init = (U * root, root[:, None] * Vh)
        self.cache: dict[int, float] = {self.max_rank: self.full}

    def _eval(self, W, b) -> float:
        return float(torch.nn.functional.cross_entropy(self.Xe @ W + b, self.ye))

    def loss(self, rank: int) -> float:
        if rank not in self.cache:
            if rank == 0:
                prior = torch.bincount(self.yf, minlength=self.n_classes).double() + 1.0
                logits = torch.log(prior / prior.sum()).expand(len(self.ye), -1)
                self.cache[0] = float(torch.nn.functional.cross_entropy(logits, self.ye))
            else:
                self.cache[rank] = self._eval(*_fit_probe(self.Xf, self.yf, self.n_classes, rank, init=self.init,
                                                          iters=self.iters))
        return self.cache[rank]


def probe_losses(X_fit: Any, y_fit: Any, X_eval: Any, y_eval: Any, n_classes: int, iters: int = 60) -> np.ndarray:
    """Held-out masked loss (nats) of linear probes of every rank: (max_rank + 1,), entry r for rank r.

    Entry 0 is the constant (context-free) probe, entries 1 .. max_rank - 1 reduced-rank probes
    ``W = A B`` (``A`` d x r), and the last entry ``max_rank = min(d, n_classes - 1)`` the full-rank
    probe (softmax is invariant to adding a constant to every logit, so rank ``n_classes - 1``
    is full). Features are standardised with the fit set's mean and scale; probes are fitted by
    L-BFGS in float64 from a deterministic start (the truncated SVD of the full probe).
    """
    probe = _Probe(X_fit, y_fit, X_eval, y_eval, n_classes, iters)
    return np.array([probe.loss(r) for r in range(probe.max_rank + 1)])


def task_relevant_dimension(X_fit: Any, y_fit: Any, X_eval: Any, y_eval: Any, n_classes: int,
                            tol: float = 0.01, iters: int = 60) -> tuple[int, float]:
    """Smallest rank r of a linear probe whose held-out loss is within ``tol`` nats of the full-rank
    probe, found by bisection over r (probe loss is nonincreasing in r up to fitting error).

    Returns ``(r, full-rank held-out loss)``; r = 0 when the context-free prior is already within
    ``tol``. Rows: masked positions; labels: the true tokens (see :func:`probe_losses`).
    """
    tol = check_float("tol", tol, 0.0, 10.0)
    probe = _Probe(X_fit, y_fit, X_eval, y_eval, n_classes, iters)
    target = probe.full + tol
    lo, hi = 0, probe.max_rank  # invariant: loss(hi) <= target; answer in [lo, hi]
    if probe.loss(0) <= target:
        return 0, probe.full
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if probe.loss(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi, probe.full


def dimension_from_losses(losses: Any, tol: float = 0.01) -> int:
    """Smallest rank whose probe loss is within ``tol`` nats of the last (full-rank) entry, (R+1,) -> int."""
    tol = check_float("tol", tol, 0.0, 10.0)
    v = _to_numpy(losses, "losses")
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"losses must have shape (R+1,) with R >= 1, got shape {v.shape}")
    return int(np.argmax(v <= v[-1] + tol))
