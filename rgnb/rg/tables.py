"""The expfam_rg chapter's Markdown tables, as rows computed here (rendered by :func:`rgnb.claims.markdown_table`,
the book's one table helper)."""

from __future__ import annotations

import numpy as np

from rgnb.claims import markdown_table
from rgnb.rg.evidence import hierarchy_gap, map_premise, map_statistics, premise
from rgnb.rg.registry import GAP_BOUND, GRAD_BOUND, configuration_name
from rgnb.stats import mean_ci


def rsmi_optimum_markdown(rsmi: dict) -> str:
    """The exact RSMI optimum over binary H per Ising law (``rgnb.rg.rsmi_ising_optimum`` results by law)."""
    head = ["law", "K", "optimal H", "I(H;E) optimum (nats)", "best non-decimation I (nats)",
            "theta_1 at the optimum = tanh²K", "theta_1 of the block sum"]
    return markdown_table(head, ([law, o.K, f"±s1, ±s2 ({len(o.optimal)} tables)", f"{max(o.information.values()):.4f}",
                                  f"{max(v for f, v in o.information.items() if f not in o.optimal):.4f}",
                                  f"{o.theta_optimal:.4f}", f"{o.theta_block_sum:.4f}"] for law, o in rsmi.items()))


def map_fixed_points_markdown(maps: dict) -> str:
    """Per configuration, the fitted layer map's fixed points and eigenvalues (trained and untrained) and its premise."""
    head = ["configuration", "x* trivial", "eigenvalue there", "x* critical", "eigenvalue there",
            "untrained: critical eigenvalue", "premise"]
    rows = []
    for key, m in maps.items():
        t, u = map_statistics(m.maps("theta")), map_statistics(m.maps("theta_init"))
        rows.append([", ".join(key), mean_ci(t["fixed_trivial"]).format(3), mean_ci(t["eig_trivial"]).format(2),
                     mean_ci(t["fixed_critical"]).format(3), mean_ci(t["eig_critical"]).format(2),
                     mean_ci(u["eig_critical"]).format(2), map_premise(m)[1]])
    return markdown_table(head, rows)


def premise_markdown(study, noise: float) -> str:
    """The premise per configuration: the certified loss gap where the optimum is known, else the gradient norm."""
    rows = []
    for (law, o, a), r in study.results.items():
        gap = hierarchy_gap(r, noise)
        detail = premise(gap, r.grad_norm)[1]
        crit = f"loss gap < {GAP_BOUND:g}" if gap is not None else f"gradient norm < {GRAD_BOUND:g}"
        vals = gap if gap is not None else r.grad_norm
        rows.append([configuration_name(law, o, a), crit, detail.split(" networks")[0], f"{np.max(vals):.3g}"])
    return markdown_table(["configuration", "criterion", "networks meeting it", "largest"], rows)


def rsmi_layer_markdown(study, rsmi: dict) -> str:
    """Layer 1 of the trained RSMI hierarchies on Ising against the exact optimum and the block sum."""
    rows = []
    for law in ("ising-away", "ising-near"):
        for arch in ("shared", "unshared"):
            r = study.results[(law, "rsmi", arch)]
            w = r.first_w.mean(0)
            rows.append([law, arch, mean_ci(r.theta[:, 1]).format(3), f"{rsmi[law].theta_optimal:.3f}",
                         f"{rsmi[law].theta_block_sum:.3f}", f"({w[0]:.2f}, {w[1]:.2f})"])
    head = ["law", "weights", "trained θ_1 (95 % CI)", "exact RSMI optimum", "block sum", "trained layer-1 weights (mean)"]
    return markdown_table(head, rows)
