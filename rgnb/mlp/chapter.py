"""What the training chapter reports: its claims (the gate per family) and run tables."""

from __future__ import annotations

import numpy as np

from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train


def paper_chains(config: _sweeps.SweepConfig) -> tuple[float, float]:
    """The sweep's correlation lengths nearest the paper's two chains (xi ~ 1 and xi ~ 7)."""
    xis = np.asarray(config.xis, dtype=float)
    return float(xis[np.argmin(abs(xis - 1.0))]), float(xis[np.argmin(abs(xis - 7.0))])


def _worst(result: _train.SweepResult, values: np.ndarray, worst_is_max: bool) -> tuple[float, str, int]:
    """The worst finite value of a sweep, a note naming its network, and the number of finite values."""
    n = int(np.isfinite(values).sum())
    k = int(np.nanargmax(values) if worst_is_max else np.nanargmin(values))
    m = result.members[k]
    return float(values[k]), f"worst network xi = {m['xi']:g}, depth {m['depth']}, seed {m['seed']} ({n} networks)", n


def training_claims(results: dict[str, _train.SweepResult], profile: str) -> list:
    """The training chapter's sanity checks (``rgnb.mlp.registry.TRAINING``): the worst excess loss and the
    smallest recovered share over every network (the gate is per network, so the worst decides); each
    sweep is a sub-row."""
    from rgnb import effects
    from rgnb.claims import Evidence, evaluate
    from rgnb.mlp.registry import TRAINING

    excess_spec, share_spec = TRAINING
    rows = []
    for spec, get, worst_is_max in ((excess_spec, lambda r: r.excess_loss, True),
                                    (share_spec, lambda r: r.recovered_share(), False)):
        per = {}
        for family, r in results.items():
            v = np.asarray(get(r), dtype=float)
            if np.isfinite(v).any():
                per[family] = _worst(r, v, worst_is_max)
        if not per:
            continue
        pick = max if worst_is_max else min
        fam = pick(per, key=lambda f: per[f][0])
        evidence = {f: Evidence(configuration=f"sweep {f}", contrasts={"value": effects.exact(x)}, n=n,
                                n_unit="networks", note=note) for f, (x, note, n) in per.items()}
        primary = Evidence(configuration="every network of every sweep", contrasts={"value": effects.exact(per[fam][0])},
                           n=sum(n for _, _, n in per.values()), n_unit="networks", note=f"{fam}: {per[fam][1]}")
        rows.append(evaluate(spec, primary, others=list(evidence.values()), profile=profile))
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


def provenance_lines(results: dict[str, _train.SweepResult]) -> list[str]:
    """One line per sweep: its networks, where they came from (shipped weights, the cache, trained now) and
    their training wall time and device."""
    lines = []
    for fam, r in results.items():
        where = "shipped weights" if r.shipped else ("cache" if r.from_cache else "trained now")
        lines.append(f"{fam}: {len(r)} networks ({where}); training wall time {r.wall_time:.0f} s on "
                     f"{r.env.get('device_name', r.device)}")
    return lines
