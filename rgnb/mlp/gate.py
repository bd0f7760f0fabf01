"""The convergence gate: the premise of every finding, fixed before any reference run.

A model passes when its held-out excess loss over the exact Bayes floor is at most
:data:`GATE_EXCESS_NATS` and it recovers at least :data:`GATE_SHARE` of the context information
``(ln V - loss) / (ln V - Bayes)`` (:func:`gate_passes`); the tables the training and robustness
chapters show of it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from rgnb.stats import Interval, mean_ci
from rgnb.validate import check_float

if TYPE_CHECKING:
    from rgnb.mlp.train import SweepResult
#: Largest held-out excess loss over the exact Bayes floor (nats per masked token) a model may have.
GATE_EXCESS_NATS = 0.01
#: Smallest share of the context information ``(ln V - loss) / (ln V - Bayes)`` a model must recover
#: (not defined for the shuffled chain, whose context carries no information: there only the excess counts).
GATE_SHARE = 0.95


def recovered_share(final_loss: Any, bayes_floor: Any, vocab_size: int) -> np.ndarray:
    """(M,) share of the context information recovered, ``(ln V - loss) / (ln V - Bayes)``, from (M,) held-out
    losses and Bayes floors (nats per masked token); NaN where the context carries none (the shuffled chain)."""
    log_v = math.log(vocab_size)
    gain = log_v - np.asarray(bayes_floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(gain > 1e-9, (log_v - np.asarray(final_loss)) / np.where(gain > 1e-9, gain, 1.0), np.nan)


def gate_passes(excess: Any, share: Any, max_excess: float = GATE_EXCESS_NATS,
                min_share: float = GATE_SHARE) -> np.ndarray:
    """Per-model gate, (M,) excess loss and (M,) recovered share -> (M,) bool.

    A model passes when ``excess <= max_excess`` and ``share >= min_share``; a NaN share (the
    shuffled chain, where ln V - Bayes = 0) is judged on the excess alone.
    """
    max_excess = check_float("max_excess", max_excess, 0.0, 1.0, low_open=True)
    min_share = check_float("min_share", min_share, 0.0, 1.0)
    e = np.asarray(excess, dtype=np.float64)
    s = np.asarray(share, dtype=np.float64)
    if e.shape != s.shape or e.ndim != 1:
        raise ValueError(f"excess and share must be 1-D arrays of the same shape, got {e.shape} and {s.shape}")
    if not np.all(np.isfinite(e)):
        raise ValueError("excess must be finite")
    return (e <= max_excess) & (np.isnan(s) | (s >= min_share))


def excess_intervals(result: SweepResult) -> dict[tuple[int, float], Interval]:
    """Mean excess held-out loss over seeds with a Student-t 95% CI, per (depth, xi), nats."""
    return {(L, float(xi)): mean_ci(result.excess_loss[result.select(xi=xi, depth=L)])
            for L in result.config.depths for xi in result.config.xis}


def gate_summary(results: dict[str, SweepResult]) -> list[dict[str, Any]]:
    """Per family: models passing the gate, and min / median / max of excess loss and recovered share."""
    rows = []
    for family, r in results.items():
        share, ok = r.recovered_share(), r.gate()
        finite = share[np.isfinite(share)]
        rows.append({"family": family, "models": len(r), "pass": int(ok.sum()),
                     "excess min": float(r.excess_loss.min()), "excess median": float(np.median(r.excess_loss)),
                     "excess max": float(r.excess_loss.max()),
                     "share min": float(finite.min()) if finite.size else math.nan,
                     "share median": float(np.median(finite)) if finite.size else math.nan,
                     "share max": float(finite.max()) if finite.size else math.nan})
    return rows


def gate_markdown(results: dict[str, SweepResult]) -> str:
    """:func:`gate_summary` as a Markdown table: per sweep, networks, passes, excess and share min / median / max."""
    lines = ["| sweep | networks | pass the gate | excess min / median / max (nats) | share min / median / max |",
             "|---|---|---|---|---|"]
    for s in gate_summary(results):
        share = ("n/a (no context information)" if math.isnan(s["share min"]) else
                 f"{s['share min']:.3f} / {s['share median']:.3f} / {s['share max']:.3f}")
        lines.append(f"| {s['family']} | {s['models']} | {s['pass']} | {s['excess min']:.4f} / "
                     f"{s['excess median']:.4f} / {s['excess max']:.4f} | {share} |")
    return "\n".join(lines)


def premise(results: dict[str, SweepResult], families=None) -> tuple[bool, str]:
    """Whether every model of the given families (default: all) passes the gate, and a one-line detail."""
    fams = list(results) if families is None else list(families)
    n = sum(len(results[f]) for f in fams)
    passed = sum(int(results[f].gate().sum()) for f in fams)
    return passed == n, f"{passed}/{n} models pass the convergence gate ({', '.join(fams)})"
