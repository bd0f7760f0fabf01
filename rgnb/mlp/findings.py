"""The three findings of the MLP-residual paper (P1), tested by protocol v2 against their null controls.

Every claim is declared here (:func:`specs`) with its statistic, threshold, premise and null
controls, before any reference network was measured; its statistic is computed from the
measurements of ``rgnb.mlp.measure``. Intervals are Student-t over seeds (>= 10 at the reference
profile). h^0 is shown in the chapters but never enters a statistic: tests run over l >= 1 (the
embedding's per-position rank is bounded by V + 1, whatever the network learned).

Two readings of "pure MLP residual stack" are trained (``rgnb.mlp.sweeps.ARCHITECTURES``): the main
one, an MLP-Mixer with pre-LayerNorm, and the robustness one, the same mixer without LayerNorm
(families ``<kind>-nolayernorm``). ``rgnb.mlp.sweeps.reading`` selects one reading's sweeps under
the main reading's family names, so every function here applies to both; :func:`robustness_rows`
states the same tests under ``robust-`` ids and :func:`reading_agreement` says which reading a
claim holds for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rgnb import metrics
from rgnb.mlp import measure as _measure
from rgnb.mlp import sweeps as _sweeps
from rgnb.stats import Interval, mean_ci
from rgnb.validate import check_choice, check_int

#: (i) Spearman rho(l, dim(l)) over l >= 1, below this for trained networks (whole t-interval).
MONOTONE_RHO = -0.8
#: (ii) Normalised collapse c = dim(L) / dim(1) of the same network. Presence at xi ~ 1: trained minus
#: initialised c below -COLLAPSE_MARGIN; absence at xi ~ 7: above -COLLAPSE_MARGIN; selectivity:
#: c(xi ~ 7) - c(xi ~ 1), paired by seed, above +COLLAPSE_MARGIN.
COLLAPSE_MARGIN = 0.05
#: (iii) Top-two share of the drift over the transitions l -> l+1, l >= 1, above the uniform share
#: 2 / (number of transitions) by this margin.
TOP2_MARGIN = 0.15
#: (iii) Plateau: the largest drift outside the top two (l >= 1), divided by the same network's at
#: initialisation, below this (the initialised network has ratio 1 by construction, so it fails).
PLATEAU_RATIO = 0.5


def top2_threshold(n_transitions: int) -> float:
    """Uniform top-two share ``2 / n`` plus :data:`TOP2_MARGIN`."""
    n = check_int("n_transitions", n_transitions, 2)
    return 2.0 / n + TOP2_MARGIN
READING_LABELS = {_sweeps.MAIN_READING: "MLP-Mixer with pre-LayerNorm", _sweeps.ROBUSTNESS_READING: "the mixer without LayerNorm"}
#: Figures of the robustness chapter that stand in for the main chapters' figures.
_ROBUST_FIGURES = {"fig-rank-profile": "fig-robust-rank", "fig-rank-measures": "fig-robust-rank",
                   "fig-selectivity": "fig-robust-selectivity", "fig-drift-profile": "fig-robust-drift"}
_NULLS = "the same networks at initialisation; networks trained on a shuffled (i.i.d., same marginal) chain"
_PREMISE = "every network measured (and every shuffled-chain network) passes the convergence gate"


def specs(depth: int, reading: str = _sweeps.MAIN_READING) -> dict[str, Any]:
    """Every findings claim at networks of ``depth`` (the top-two threshold depends on it), id -> ClaimSpec.

    For the robustness ``reading`` the same tests, thresholds and nulls under ids ``robust-<id>``, as our
    claims (the chapter "robustness"); the spectral-relevance claim belongs to the main reading only.
    """
    from rgnb.claims import ClaimSpec

    check_choice("reading", reading, tuple(_sweeps.READING_SUFFIX))
    L = check_int("depth", depth, 2)
    rows = [
        # (i) rank collapse
        ("P1-i-monotone", "rank_collapse", "P1",
         "The effective rank of the normalised residual stream decreases monotonically with depth after training "
         "(potts, xi ~ 1)", "Spearman rho(l, erank of LN(h^l)) over l >= 1, masked rows, mean over seeds",
         MONOTONE_RHO, "below", "fig-rank-profile"),
        ("P1-i-monotone-ring", "rank_collapse", "P1",
         "The same on the ring chain with xi ~ 1", "Spearman rho(l, erank of LN(h^l)) over l >= 1, masked rows",
         MONOTONE_RHO, "below", "fig-rank-profile"),
        ("P1-i-monotone-raw", "rank_collapse", "P1",
         "The same for the raw residual stream h^l (potts, xi ~ 1)", "Spearman rho(l, erank of h^l) over l >= 1",
         MONOTONE_RHO, "below", "fig-rank-measures"),
        ("P1-i-monotone-pc90", "rank_collapse", "P1",
         "The same with a scale-aware dimension, PCs for 90 % of the variance of LN(h^l) (potts, xi ~ 1)",
         "Spearman rho(l, PCs90 of LN(h^l)) over l >= 1", MONOTONE_RHO, "below", "fig-rank-measures"),
        # (ii) selectivity
        ("P1-ii-present", "selectivity", "P1",
         "Collapse is present at xi ~ 1: deeper layers lose more dimensions than the same network at initialisation",
         "c_trained - c_init at xi ~ 1, c = erank(L) / erank(1) of LN(h), paired by seed", -COLLAPSE_MARGIN,
         "below", "fig-selectivity"),
        ("P1-ii-absent", "selectivity", "P1",
         "Collapse is absent at xi ~ 7: no more loss of dimensions than at initialisation",
         "c_trained - c_init at xi ~ 7, paired by seed", -COLLAPSE_MARGIN, "above", "fig-selectivity"),
        ("P1-ii-selective", "selectivity", "P1",
         "The collapse is selective: weaker at xi ~ 7 than at xi ~ 1 (potts, span masking)",
         "c(xi ~ 7) - c(xi ~ 1), paired by seed", COLLAPSE_MARGIN, "above", "fig-selectivity"),
        ("P1-ii-selective-ring", "selectivity", "P1", "The same on the ring chains",
         "c(xi ~ 7) - c(xi ~ 1), paired by seed", COLLAPSE_MARGIN, "above", "fig-selectivity"),
        ("P1-ii-selective-isolated", "selectivity", "P1",
         "The same with isolated (BERT-style) masking (potts)", "c(xi ~ 7) - c(xi ~ 1), paired by seed",
         COLLAPSE_MARGIN, "above", "fig-selectivity"),
        ("ours-spectral-relevance", "selectivity", "ours",
         "The task-relevant dimension at the last layer grows with the number of chain modes relevant at the "
         "task's scale (|lambda_k|^s > 1/e)",
         "least-squares slope of the task-relevant dimension on the number of relevant modes, over models of "
         "both families and the xi grid", 0.0, "above", "fig-spectral-relevance"),
        ("ours-spectral-relevance-gain", "selectivity", "ours",
         "What training adds to the task-relevant dimension at the last layer increases with the number of chain "
         "modes relevant at the task's scale, at fixed correlation length",
         "per seed, the coefficient of the number of relevant modes in a least-squares fit of (trained - "
         "initialised task-relevant dimension) on [1, relevant modes, log xi] over the chains of both families; "
         "mean over seeds", 0.0, "above", "fig-spectral-relevance"),
        # (iii) kernel drift
        ("P1-iii-concentrated", "kernel_drift", "P1",
         "Inter-layer kernel drift is concentrated in one or two transitions (l >= 1, potts, xi ~ 1)",
         f"top-two share of 1 - CKA over the {L - 1} transitions l -> l+1, l >= 1 (uniform: {2 / (L - 1):.2f})",
         top2_threshold(L - 1), "above", "fig-drift-profile"),
        ("P1-iii-concentrated-with-embedding", "kernel_drift", "P1",
         "The same, counting the embedding transition 0 -> 1",
         f"top-two share of 1 - CKA over all {L} transitions (uniform: {2 / L:.2f})", top2_threshold(L), "above",
         "fig-drift-profile"),
        ("P1-iii-plateau", "kernel_drift", "P1",
         "The other layers sit near a fixed point (a plateau)",
         "largest drift outside the top two (l >= 1) / the same at initialisation, per seed", PLATEAU_RATIO,
         "below", "fig-drift-profile"),
    ]
    out = {}
    for id_, chapter, source, claim, statistic, threshold, passes, figure in rows:
        null = ("the same networks at initialisation" if id_ == "ours-spectral-relevance" else
                "networks trained on a shuffled chain, probed on the same chains, the same statistic (the "
                "initialised network is subtracted in the statistic itself)" if id_ == "ours-spectral-relevance-gain"
                else
                "networks trained on a shuffled (i.i.d., same marginal) chain (at initialisation the statistic "
                "is 0 by construction)" if id_ in ("P1-ii-present", "P1-ii-absent") else
                "networks trained on a shuffled chain (at initialisation the ratio is 1 by construction)"
                if id_ == "P1-iii-plateau" else _NULLS)
        # The gain test replaces the spectral-relevance test after that one was found vacuous on the stored
        # reference networks (its null, the initialised networks, passed too): chosen after seeing them.
        out[id_] = ClaimSpec(id=id_, chapter=chapter, source=source, claim=claim, statistic=statistic,
                             threshold=float(threshold), passes=passes, premise=_PREMISE, null_control=null,
                             ci_method="student-t", figure=figure, post_hoc=id_ == "ours-spectral-relevance-gain")
    if reading == _sweeps.MAIN_READING:
        return out
    return {id_: dataclasses.replace(spec, id=f"robust-{id_}", chapter="robustness", source="ours",
                                     claim=f"{spec.claim} [{READING_LABELS[reading]}]",
                                     figure=_ROBUST_FIGURES[spec.figure])
            for id_, spec in out.items() if not id_.startswith("ours-spectral-relevance")}


def rho_from_1(profiles: Any) -> np.ndarray:
    """Spearman rho(l, p(l)) over l >= 1, profiles (n, L+1) -> (n,); 0 for a constant profile (no trend:
    e.g. an integer-valued dimension that does not change)."""
    p = np.asarray(profiles, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"profiles must have shape (n, L+1) with L >= 2, got shape {p.shape}")
    return np.nan_to_num(np.asarray(metrics.depth_spearman(p[:, 1:]), dtype=np.float64), nan=0.0)


def collapse_from_1(profiles: Any) -> np.ndarray:
    """Normalised collapse c = p(L) / p(1) of each profile, (n, L+1) -> (n,)."""
    p = np.asarray(profiles, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"profiles must have shape (n, L+1) with L >= 2, got shape {p.shape}")
    return p[:, -1] / p[:, 1]


def top2_share(drift: Any, with_embedding: bool = False) -> np.ndarray:
    """Share of the total drift in the two largest transitions, drift (n, L) -> (n,); over l >= 1 unless
    ``with_embedding`` (then the 0 -> 1 transition counts too)."""
    D = np.asarray(drift, dtype=np.float64)
    if D.ndim != 2 or D.shape[1] < 3:
        raise ValueError(f"drift must have shape (n, L) with L >= 3, got shape {D.shape}")
    return metrics.drift_concentration(D if with_embedding else D[:, 1:]).top2


def plateau_ratio(drift_trained: Any, drift_init: Any) -> np.ndarray:
    """Largest drift outside the top two (l >= 1), trained / initialised, per seed, (n, L) x (n, L) -> (n,)."""
    for name, d in (("drift_trained", drift_trained), ("drift_init", drift_init)):
        if np.ndim(d) != 2 or np.shape(d)[1] < 4:
            raise ValueError(f"{name} must have shape (n, L) with L >= 4 (a plateau needs a third transition "
                             f"beyond l >= 1's top two), got shape {np.shape(d)}")
    a = metrics.plateau_level(np.asarray(drift_trained, dtype=np.float64)[:, 1:])
    b = metrics.plateau_level(np.asarray(drift_init, dtype=np.float64)[:, 1:])
    if np.any(b <= 0):
        raise ValueError("drift_init must have a positive plateau level")
    return a / b


def _interval(values: Any) -> Interval:
    v = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError("per-seed values must be finite")
    return mean_ci(v)


def spectral_relevance(meas: _measure.Measurements, stage: str = "trained",
                       families: tuple[str, ...] = _measure.RELEVANCE_FAMILIES) -> dict[str, Any]:
    """Task-relevant dimension at the last layer against the number of relevant modes, over models.

    Returns ``x`` (relevant modes), ``y`` (task dimension), ``slope`` (an Interval: least squares with
    a Student-t CI, n - 2 degrees of freedom) and ``n``.
    """
    xs, ys = [], []
    for fam in families:
        if fam not in meas.results:
            continue
        r = meas.results[fam]
        vals = meas.values[(fam, stage, "own")]["taskdim"]
        for i, m in enumerate(r.members):
            if m["depth"] != max(r.config.depths):
                continue
            xs.append(_measure.relevant_modes(r.config.kind, r.config.vocab_size, m["xi"], meas.scale))
            ys.append(float(vals[i]))
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.size < 3 or np.ptp(x) == 0:
        return {"x": x, "y": y, "slope": None, "n": int(x.size)}
    s, lo, hi = metrics.slope_ci(x, y)
    return {"x": x, "y": y, "slope": Interval(s, lo, hi, 0.95, method="student-t", n=int(x.size)), "n": int(x.size)}


def relevance_cells(meas: _measure.Measurements, families: tuple[str, ...] = _measure.RELEVANCE_FAMILIES) -> list[tuple[str, float, int]]:
    """The chains of the spectral-relevance fits: ``(family, xi, relevant modes)`` for every xi of ``families``."""
    return [(fam, float(xi), _measure.relevant_modes(meas.results[fam].config.kind, meas.results[fam].config.vocab_size, xi,
                                            meas.scale))
            for fam in families if fam in meas.results for xi in meas.results[fam].config.xis]


def relevance_gain(meas: _measure.Measurements, trained_on: str = "chain",
                   families: tuple[str, ...] = _measure.RELEVANCE_FAMILIES) -> dict[str, Any]:
    """What training adds to the task-relevant dimension, against the number of relevant modes at fixed xi.

    Cells are the chains of :func:`relevance_cells`. In each cell the *gain* of seed ``s`` is the
    task-relevant dimension at the last layer of the seed's network trained on ``trained_on``
    (``"chain"``: the cell's own network; ``"shuffled"``: the seed's shuffled-chain network, probed on
    the cell's chain: the null control) minus that of the seed's network at initialisation on the
    same probe (every network of a seed starts from the same weights, so this is the cell's own
    initialised network). Per seed, least squares of the gain over the cells on ``[1, x, log xi]``
    (``x`` the relevant modes); its ``x`` coefficient is the effect of the relevant modes at fixed
    correlation length. Returns ``cells``; ``x``, ``log_xi`` (n_cells,); ``gain`` (n_seeds, n_cells);
    ``coef`` (n_seeds,); ``slope``: Student-t Interval of the mean coefficient over seeds (None when
    the design cannot separate x from log xi, or the null is not measured).
    """
    check_choice("trained_on", trained_on, ("chain", _sweeps.SHUFFLED))
    cells = relevance_cells(meas, families)
    x = np.array([c[2] for c in cells], dtype=float)
    log_xi = np.log([c[1] for c in cells])
    empty = {"cells": cells, "x": x, "log_xi": log_xi, "gain": np.zeros((0, len(cells))), "coef": np.zeros(0),
             "slope": None}
    if not cells or (trained_on == _sweeps.SHUFFLED and _sweeps.SHUFFLED not in meas.results):
        return empty
    columns = []
    for fam, xi, _ in cells:
        init = meas.get(fam, "taskdim", "init", xi)
        if trained_on == "chain":
            trained = meas.get(fam, "taskdim", "trained", xi)
        else:
            if meas.seeds_of(_sweeps.SHUFFLED) != meas.seeds_of(fam, xi):
                raise ValueError(f"the shuffled networks' seeds {meas.seeds_of(_sweeps.SHUFFLED)} must be those of "
                                 f"{fam} at xi = {xi:g}, {meas.seeds_of(fam, xi)}")
            trained = meas.get(_sweeps.SHUFFLED, "taskdim", "trained", probe=f"{fam}:{xi:g}")
        columns.append(np.asarray(trained, dtype=float) - np.asarray(init, dtype=float))
    gain = np.stack(columns, axis=1)
    design = np.stack([np.ones_like(x), x, log_xi], axis=1)
    if len(cells) < 4 or np.linalg.matrix_rank(design) < 3:
        return dict(empty, gain=gain)
    coef = gain @ np.linalg.pinv(design)[1]  # the x row of the least-squares solution, per seed
    return {"cells": cells, "x": x, "log_xi": log_xi, "gain": gain, "coef": coef,
            "slope": _interval(coef) if coef.size >= 2 else None}


def relevance_gain_difference(chain: dict[str, Any], null: dict[str, Any]) -> Interval | None:
    """Per seed, the chain networks' relevance-gain coefficient minus the shuffled-chain networks'
    (two results of :func:`relevance_gain` on the same measurements: same seeds and design),
    Student-t interval over seeds; None when either coefficient is not available. Descriptive (not a
    declared claim)."""
    if chain["slope"] is None or null["slope"] is None:
        return None
    return _interval(chain["coef"] - null["coef"])


def _premise(results, families) -> tuple[bool, str]:
    fams = [f for f in families if f in results]
    n = sum(len(results[f]) for f in fams)
    ok = sum(int(results[f].gate().sum()) for f in fams)
    return ok == n, f"{ok}/{n} networks pass the convergence gate ({', '.join(fams)})"


def _row(spec, measured: Interval, null, results, families, profile: str, n: int, note: str = ""):
    from rgnb.claims import evaluate
    met, detail = _premise(results, families)
    return evaluate(spec, measured=measured, null=null, premise_met=met, premise_detail=detail, profile=profile,
                    n=n, n_unit="seeds", note=note)


def _depth(meas: _measure.Measurements) -> int:
    return max(meas.results[_sweeps.PAPER_FAMILY].config.depths)


def rank_collapse_rows(meas: _measure.Measurements, profile: str, reading: str = _sweeps.MAIN_READING) -> list:
    """Finding (i): Spearman rho(l, dim(l)) over l >= 1 at xi ~ 1, trained vs both nulls."""
    sp = specs(_depth(meas), reading)
    xi1, _ = _measure.paper_xis(meas.results[_sweeps.PAPER_FAMILY].config.xis)
    rows = []
    for id_, family, quantity in (("P1-i-monotone", _sweeps.PAPER_FAMILY, "erank_ln"),
                                  ("P1-i-monotone-ring", "ring", "erank_ln"),
                                  ("P1-i-monotone-raw", _sweeps.PAPER_FAMILY, "erank_raw"),
                                  ("P1-i-monotone-pc90", _sweeps.PAPER_FAMILY, "pc90_ln")):
        if family not in meas.results:
            continue
        fxi = _measure.paper_xis(meas.results[family].config.xis)[0]
        trained = rho_from_1(meas.get(family, quantity, "trained", fxi))
        null = {"initialisation": _interval(rho_from_1(meas.get(family, quantity, "init", fxi)))}
        if _sweeps.SHUFFLED in meas.results:
            probe = f"{_sweeps.PAPER_FAMILY}:{xi1:g}" if family == _sweeps.PAPER_FAMILY else "own"
            null["shuffled chain"] = _interval(rho_from_1(meas.get(_sweeps.SHUFFLED, quantity, "trained", probe=probe)))
        rows.append(_row(sp[id_], _interval(trained), null, meas.results, (family, _sweeps.SHUFFLED), profile,
                         len(trained), note=f"{family}, xi = {fxi:g}, depth {_depth(meas)}"))
    return rows


def collapse_by_seed(meas: _measure.Measurements, family: str, xi: float, stage: str = "trained", probe: str = "own",
                     quantity: str = "erank_ln") -> np.ndarray:
    """Normalised collapse c = dim(L) / dim(1) per seed."""
    return collapse_from_1(meas.get(family, quantity, stage, xi, probe=probe))


def selectivity_rows(meas: _measure.Measurements, profile: str, reading: str = _sweeps.MAIN_READING) -> list:
    """Finding (ii): presence at xi ~ 1 and absence at xi ~ 7 against the initialised network, and the
    paired difference between the two chains; the spectral-relevance regression (ours)."""
    sp = specs(_depth(meas), reading)
    rows = []
    xi1, xi7 = _measure.paper_xis(meas.results[_sweeps.PAPER_FAMILY].config.xis)
    has_null = _sweeps.SHUFFLED in meas.results

    def shuffled(xi: float, stage: str = "trained") -> np.ndarray:
        return collapse_by_seed(meas, _sweeps.SHUFFLED, None, stage, probe=f"{_sweeps.PAPER_FAMILY}:{xi:g}")

    for id_, xi, side in (("P1-ii-present", xi1, "present"), ("P1-ii-absent", xi7, "absent")):
        diff = collapse_by_seed(meas, _sweeps.PAPER_FAMILY, xi) - collapse_by_seed(meas, _sweeps.PAPER_FAMILY, xi, "init")
        null = {"initialisation": _interval(np.zeros_like(diff))}
        if has_null:
            null["shuffled chain"] = _interval(shuffled(xi) - shuffled(xi, "init"))
        if side == "absent":
            null.pop("initialisation")  # 0 by construction: it would always pass an absence test
        rows.append(_row(sp[id_], _interval(diff), null, meas.results, (_sweeps.PAPER_FAMILY, _sweeps.SHUFFLED), profile,
                         len(diff), note=f"potts, xi = {xi:g}"))
    for id_, family in (("P1-ii-selective", _sweeps.PAPER_FAMILY), ("P1-ii-selective-ring", "ring"),
                        ("P1-ii-selective-isolated", "potts-isolated")):
        if family not in meas.results:
            continue
        a, b = _measure.paper_xis(meas.results[family].config.xis)
        gap = collapse_by_seed(meas, family, b) - collapse_by_seed(meas, family, a)
        null = {"initialisation": _interval(collapse_by_seed(meas, family, b, "init")
                                            - collapse_by_seed(meas, family, a, "init"))}
        if has_null:
            null["shuffled chain"] = _interval(shuffled(xi7) - shuffled(xi1))
        rows.append(_row(sp[id_], _interval(gap), null, meas.results, (family, _sweeps.SHUFFLED), profile, len(gap),
                         note=f"{family}, xi = {b:g} minus xi = {a:g}"))
    if reading != _sweeps.MAIN_READING:
        return rows
    from rgnb.claims import evaluate
    rel = spectral_relevance(meas)
    rel0 = spectral_relevance(meas, "init")
    if rel["slope"] is not None:
        met, detail = _premise(meas.results, _measure.RELEVANCE_FAMILIES)
        rows.append(evaluate(sp["ours-spectral-relevance"], measured=rel["slope"],
                             null={"initialisation": rel0["slope"]} if rel0["slope"] is not None else None,
                             premise_met=met, premise_detail=detail, profile=profile, n=rel["n"], n_unit="models",
                             note=f"task scale s = {meas.scale:.3f} positions"))
    gain = relevance_gain(meas)
    null = relevance_gain(meas, _sweeps.SHUFFLED)
    if gain["slope"] is not None:
        met, detail = _premise(meas.results, _measure.RELEVANCE_FAMILIES + (_sweeps.SHUFFLED,))
        rows.append(evaluate(sp["ours-spectral-relevance-gain"], measured=gain["slope"],
                             null={"shuffled chain": null["slope"]} if null["slope"] is not None else None,
                             premise_met=met, premise_detail=detail, profile=profile, n=len(gain["coef"]),
                             n_unit="seeds", note=f"{len(gain['cells'])} chains; task scale s = {meas.scale:.3f} "
                                                  "positions"))
    return rows


def drift_by_seed(meas: _measure.Measurements, family: str, xi: float | None, stage: str = "trained",
                  probe: str = "own") -> np.ndarray:
    """Drift profiles (n_seeds, L), transitions 0 -> 1, ..., L-1 -> L."""
    return meas.get(family, "drift", stage, xi, probe=probe)


def kernel_drift_rows(meas: _measure.Measurements, profile: str, reading: str = _sweeps.MAIN_READING) -> list:
    """Finding (iii): concentration (with and without the embedding transition) and plateau, at xi ~ 1."""
    sp = specs(_depth(meas), reading)
    xi1, _ = _measure.paper_xis(meas.results[_sweeps.PAPER_FAMILY].config.xis)
    tr = drift_by_seed(meas, _sweeps.PAPER_FAMILY, xi1)
    init = drift_by_seed(meas, _sweeps.PAPER_FAMILY, xi1, "init")
    probe = f"{_sweeps.PAPER_FAMILY}:{xi1:g}"
    has_null = _sweeps.SHUFFLED in meas.results
    sh = drift_by_seed(meas, _sweeps.SHUFFLED, None, probe=probe) if has_null else None
    sh0 = drift_by_seed(meas, _sweeps.SHUFFLED, None, "init", probe=probe) if has_null else None
    rows = []
    for id_, emb in (("P1-iii-concentrated", False), ("P1-iii-concentrated-with-embedding", True)):
        null = {"initialisation": _interval(top2_share(init, emb))}
        if has_null:
            null["shuffled chain"] = _interval(top2_share(sh, emb))
        rows.append(_row(sp[id_], _interval(top2_share(tr, emb)), null, meas.results, (_sweeps.PAPER_FAMILY, _sweeps.SHUFFLED),
                         profile, len(tr), note=f"potts, xi = {xi1:g}, depth {_depth(meas)}"))
    null = {"shuffled chain": _interval(plateau_ratio(sh, sh0))} if has_null else None
    rows.append(_row(sp["P1-iii-plateau"], _interval(plateau_ratio(tr, init)), null, meas.results,
                     (_sweeps.PAPER_FAMILY, _sweeps.SHUFFLED), profile, len(tr), note=f"potts, xi = {xi1:g}"))
    return rows


def robustness_rows(meas: _measure.Measurements, profile: str) -> list:
    """Findings (i)-(iii) for the robustness reading (``meas`` of :func:`reading` ``(results,
    ROBUSTNESS_READING)``): the same tests, thresholds and nulls under ``robust-`` ids."""
    return (rank_collapse_rows(meas, profile, _sweeps.ROBUSTNESS_READING) + selectivity_rows(meas, profile, _sweeps.ROBUSTNESS_READING)
            + kernel_drift_rows(meas, profile, _sweeps.ROBUSTNESS_READING))


def _measured_text(row) -> str:
    """A row's measured statistic with its interval, as its claims table shows it."""
    return (getattr(row, "measured", None) or {}).get("text", "n/a")


def reading_agreement(main_rows, robust_rows) -> list[dict[str, str]]:
    """Per claim tested under both readings: each reading's verdict and whether the claim holds for
    both readings, for one reading only, or for neither (it holds when reproduced, fails when not
    reproduced); when either verdict is neither (inconclusive, premise not met, vacuous test) the
    comparison is "undecided" and says which reading left it open."""
    from rgnb.claims import NOT_REPRODUCED, REPRODUCED

    robust = {r.id.removeprefix("robust-"): r for r in robust_rows}
    decided = (REPRODUCED, NOT_REPRODUCED)
    out = []
    for r in main_rows:
        if r.id not in robust:
            continue
        a, b = r.verdict, robust[r.id].verdict
        if a in decided and b in decided:
            holds = ("both readings" if a == b == REPRODUCED else "neither reading" if a == b
                     else f"{READING_LABELS[_sweeps.MAIN_READING if a == REPRODUCED else _sweeps.ROBUSTNESS_READING]} only")
        else:
            holds = "undecided: " + "; ".join(f"{v} for {READING_LABELS[k]}" for k, v in
                                              ((_sweeps.MAIN_READING, a), (_sweeps.ROBUSTNESS_READING, b)) if v not in decided)
        out.append({"claim": r.id, "chapter": r.chapter, "main": a, "robust": b, "holds for": holds,
                    "main measured": _measured_text(r), "robust measured": _measured_text(robust[r.id])})
    return out
