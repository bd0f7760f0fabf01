"""The MLP chapters' Markdown tables, as rows computed here (the chapters render them with
:func:`rgnb.claims.markdown_table`, the book's one table helper)."""

from __future__ import annotations

import numpy as np

from rgnb import metrics
from rgnb.claims import anchor, markdown_table
from rgnb.mlp import findings as _findings
from rgnb.mlp import measure as _measure
from rgnb.mlp import sweeps as _sweeps


def _chains(c: _sweeps.SweepConfig) -> str:
    return ", ".join(f"{x:g}" for x in c.xis) if c.kind != _sweeps.SHUFFLED else "i.i.d."


def sweeps_markdown(configs: dict[str, _sweeps.SweepConfig]) -> str:
    """The training chapter's table of a profile's sweeps: one row per family."""
    head = ["sweep", "architecture", "chains $\\xi$", "depths", "width", "seeds", "masking", "steps x batch", "AdamW"]
    return markdown_table(head, ([fam, c.architecture, _chains(c), ", ".join(map(str, c.depths)), c.width, len(c.seeds),
                                 f"rate {c.mask.rate:g}, span {c.mask.span}", f"{c.steps} x {c.batch_size}",
                                 f"lr {c.lr:g}, warm-up {c.warmup}, cosine to {c.min_lr_frac:g} lr"]
                                for fam, c in configs.items()))


def tuning_markdown(table=None, xis=(0.5, 1.0, 3.0, 7.0)) -> str:
    """The tuning runs behind the reference budget (``sweeps.TUNING``): worst excess / smallest share / passing."""
    table = _sweeps.TUNING if table is None else table
    head = ["budget", "chain"] + [f"$\\xi={x:g}$" for x in xis]
    return markdown_table(head, ([b, k] + [f"{v[0]:.4f} / {v[1]:.3f} / {v[2]}" for v in cells.values()]
                                 for b, k, cells in table))


def readings_markdown(configs: dict[str, _sweeps.SweepConfig]) -> str:
    """The robustness chapter's table of both readings' sweeps."""
    head = ["sweep", "chains $\\xi$", "depth", "width", "seeds", "steps x batch", "AdamW"]
    return markdown_table(head, ([name, _chains(c), ", ".join(map(str, c.depths)), c.width, len(c.seeds),
                                  f"{c.steps} x {c.batch_size}", f"lr {c.lr:g}, warm-up {c.warmup}"]
                                 for name, c in configs.items()))


def no_layernorm_tuning_markdown() -> str:
    """The step-count tuning of the reading without LayerNorm: held-out excess loss per seed."""
    return markdown_table(["budget", "seed 0", "seed 1"],
                          ([name, f"{a:.4f}", f"{b:.4f}"] for name, (a, b) in _sweeps.NO_LAYERNORM_TUNING))


def agreement_markdown(agreement: list[dict[str, str]]) -> str:
    """Per claim, both readings' contrasts and verdicts (linked to their rows) and which reading it holds for."""
    head = ["claim", "mixer with LayerNorm: contrasts (95 % CI)", "verdict", "mixer without LayerNorm: contrasts (95 % CI)",
            "verdict", "holds for"]
    return markdown_table(head, ([a["claim"], a["main measured"],
                                  f"<a href=\"{a['chapter']}.html#{anchor(a['claim'])}\">{a['main']}</a>",
                                  a["robust measured"], f"<a href=\"#{anchor('robust-' + a['claim'])}\">{a['robust']}</a>",
                                  a["holds for"]] for a in agreement))


def drift_summary_markdown(meas, xi: float, depth: int, with_shuffled: bool) -> str:
    """Concentration and plateau per seed of the trained, initialised and shuffled-chain networks on chain ``xi``."""
    tr, init = _findings.drift_by_seed(meas, "potts", xi), _findings.drift_by_seed(meas, "potts", xi, "init")
    rows = [("trained", tr, init), ("initialisation", init, init)]
    if with_shuffled:
        p = _measure.on_chain("potts", xi)
        rows.append(("shuffled chain", _findings.drift_by_seed(meas, "shuffled", None, probe=p),
                     _findings.drift_by_seed(meas, "shuffled", None, "init", probe=p)))
    L = depth
    head = [f"networks (potts, $\\xi={xi:g}$)", f"top-two share, $l\\ge 1$ (uniform {2 / (L - 1):.2f})",
            f"with $0\\to1$ (uniform {2 / L:.2f})", "largest transition", "plateau ratio"]

    def largest(D):
        k = np.bincount(np.argmax(D, 1), minlength=L).argmax()
        return f"{k}→{k + 1}"

    return markdown_table(head, ([name, metrics.seed_ci(_findings.top2_share(D)).format(3),
                                  metrics.seed_ci(_findings.top2_share(D, True)).format(3), largest(D),
                                  metrics.seed_ci(_findings.plateau_ratio(D, D0)).format(3)] for name, D, D0 in rows))


def relevance_markdown(meas, gain: dict, gain_null: dict) -> str:
    """Per chain of the relevance fit: relevant modes, task-relevant dimension trained and initialised, the gain,
    and the shuffled-chain networks' gain on the same chain."""
    null = ({c[:2]: gain_null["gain"][:, j].mean() for j, c in enumerate(gain_null["cells"])}
            if gain_null["gain"].size else {})
    head = ["sweep", "$\\xi$", "relevant modes", "task-relevant dimension, trained (mean over seeds)", "at initialisation",
            "trained minus initialised", "the same, shuffled-chain networks on this chain"]
    return markdown_table(head, ([fam, f"{xi:g}", x, f"{meas.get(fam, 'taskdim', 'trained', xi).mean():.2f}",
                                  f"{meas.get(fam, 'taskdim', 'init', xi).mean():.2f}", f"{gain['gain'][:, j].mean():.2f}",
                                  f"{null[(fam, xi)]:.2f}" if (fam, xi) in null else "n/a"]
                                 for j, (fam, xi, x) in enumerate(gain["cells"])))
