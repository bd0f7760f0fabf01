"""What the training chapter reports: its claims (the gate per family) and run tables."""

from __future__ import annotations

import dataclasses

import numpy as np

from rgnb.mlp import gate as _gate
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train


def paper_chains(config: _sweeps.SweepConfig) -> tuple[float, float]:
    """The sweep's correlation lengths nearest the paper's two chains (xi ~ 1 and xi ~ 7)."""
    xis = np.asarray(config.xis, dtype=float)
    return float(xis[np.argmin(abs(xis - 1.0))]), float(xis[np.argmin(abs(xis - 7.0))])


def _claim_specs():
    from rgnb.claims import ClaimSpec
    excess = ClaimSpec(
        id="training-gate-excess", chapter="training", source="sanity check",
        claim="Every network reaches the exact Bayes floor: held-out excess loss at most 0.01 nats per masked token",
        statistic="largest held-out excess loss over the family's models (nats per masked token)",
        threshold=_gate.GATE_EXCESS_NATS, passes="below", premise="none (this is the premise of the findings)",
        null_control="", ci_method="exact", figure="fig-training-gate", post_hoc=False)
    share = ClaimSpec(
        id="training-gate-share", chapter="training", source="sanity check",
        claim="Every network recovers at least 95 % of the context information, (ln V - loss) / (ln V - Bayes)",
        statistic="smallest recovered share over the family's models", threshold=_gate.GATE_SHARE, passes="above",
        premise="none (this is the premise of the findings)", null_control="", ci_method="exact",
        figure="fig-training-gate", post_hoc=False)
    return excess, share


def training_claims(results: dict[str, _train.SweepResult], profile: str) -> list:
    """The training chapter's rows: per family, the worst excess and the smallest share (exact statistics
    over every model: the gate is per model, so the worst model decides)."""
    from rgnb import stats
    from rgnb.claims import evaluate as _evaluate
    excess_spec, share_spec = _claim_specs()
    rows = []
    for family, r in results.items():
        worst = int(np.argmax(r.excess_loss))
        m = r.members[worst]
        note = f"{family}: worst model xi = {m['xi']:g}, depth {m['depth']}, seed {m['seed']}"
        rows.append(_evaluate(dataclasses.replace(excess_spec, id=f"{excess_spec.id}-{family}"),
                              measured=stats.exact(float(r.excess_loss.max())), null=None, premise_met=True,
                              premise_detail="", profile=profile, n=len(r), n_unit="models", note=note))
        share = r.recovered_share()
        if np.isfinite(share).any():
            k = int(np.nanargmin(share))
            m = r.members[k]
            rows.append(_evaluate(dataclasses.replace(share_spec, id=f"{share_spec.id}-{family}"),
                                  measured=stats.exact(float(np.nanmin(share))), null=None, premise_met=True,
                                  premise_detail="", profile=profile, n=int(np.isfinite(share).sum()),
                                  n_unit="models",
                                  note=f"{family}: worst model xi = {m['xi']:g}, depth {m['depth']}, seed {m['seed']}"))
    return rows


def runs_markdown(result: _train.SweepResult, digits: int = 3) -> str:
    """The table of runs as Markdown: one row per model (config, seed, steps, losses, gate, wall time, device)."""
    rows = result.runs_table()
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:.{digits}g}" if isinstance(r[c], float) else str(r[c])
                                       for c in cols) + " |")
    return "\n".join(lines)
