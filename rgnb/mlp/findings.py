"""The three findings of the MLP-residual paper (P1): per-seed statistics and the evidence of each claim.

The claims are registered in :mod:`rgnb.mlp.registry` (verdicts v3); this module computes their
per-seed statistics from the measurements of ``rgnb.mlp.measure`` and turns them into
:class:`rgnb.claims.Evidence`: paired contrasts (same seed, same probe sequences) of the trained
networks against the same networks at initialisation and against the networks trained on a
shuffled chain, with exact sign-flip intervals over seeds. h^0 is shown in the chapters but never
enters a statistic: tests run over l >= 1 (the embedding's per-position rank is bounded by V + 1,
whatever the network learned).

Two readings of "pure MLP residual stack" are trained (``rgnb.mlp.sweeps.ARCHITECTURES``): the main
one, an MLP-Mixer with pre-LayerNorm, and the robustness one, the same mixer without LayerNorm
(families ``<kind>-nolayernorm``). ``rgnb.mlp.sweeps.reading`` selects one reading's sweeps under
the main reading's family names, so every function here applies to both; :func:`robustness_rows`
evaluates the same registered tests under ``robust-`` ids and :func:`reading_agreement` says which
reading a claim holds for.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from rgnb import effects, metrics
from rgnb.claims import Evidence, evaluate
from rgnb.mlp import gate as _gate
from rgnb.mlp import measure as _measure
from rgnb.mlp import registry as _registry
from rgnb.mlp import sweeps as _sweeps
from rgnb.stats import Interval, mean_ci
from rgnb.validate import check_choice

READING_LABELS = {_sweeps.MAIN_READING: "MLP-Mixer with pre-LayerNorm", _sweeps.ROBUSTNESS_READING: "the mixer without LayerNorm"}
SHUFFLED_CONTRAST = "shuffled chain"
INIT_CONTRAST = "initialisation"


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
        vals = meas.values[(fam, stage, _measure.OWN)]["taskdim"]
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
            trained = meas.get(_sweeps.SHUFFLED, "taskdim", "trained", probe=_measure.on_chain(fam, xi))
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


def plateau_level(drift: Any) -> np.ndarray:
    """Largest drift outside the top two transitions (l >= 1), per seed, drift (n, L) -> (n,)."""
    D = np.asarray(drift, dtype=np.float64)
    if D.ndim != 2 or D.shape[1] < 4:
        raise ValueError(f"drift must have shape (n, L) with L >= 4 (a plateau needs a third transition beyond "
                         f"l >= 1's top two), got shape {D.shape}")
    return metrics.plateau_level(D[:, 1:])


class FindingStatistic(NamedTuple):
    """A finding's per-seed statistic: the measured ``quantity`` (a profile of ``rgnb.mlp.measure``) and the
    function of its (n_seeds, ...) values that gives one number per seed."""

    quantity: str
    of: Callable[[np.ndarray], np.ndarray]


class SubConfiguration(NamedTuple):
    """A configuration shown under a finding's row: its ``label``, the sweep ``family`` and, where it differs
    from the finding's, the measured ``quantity`` (None: the finding's own)."""

    label: str
    family: str
    quantity: str | None = None


#: Per-seed statistic of each registered finding.
STATISTICS: dict[str, FindingStatistic] = {
    "P1-i-monotone": FindingStatistic("erank_ln", lambda p: rho_from_1(p)),
    "P1-ii-present": FindingStatistic("erank_ln", lambda p: collapse_from_1(p)),
    "P1-ii-absent": FindingStatistic("erank_ln", lambda p: collapse_from_1(p)),
    "P1-iii-concentrated": FindingStatistic("drift", lambda d: top2_share(d)),
    "P1-iii-plateau": FindingStatistic("drift", plateau_level),
}
_RING, _ISOLATED = SubConfiguration("ring chain", "ring"), SubConfiguration("isolated masking", "potts-isolated")
#: Sub-configurations of every finding.
SUB_CONFIGURATIONS: dict[str, tuple[SubConfiguration, ...]] = {
    "P1-i-monotone": (_RING, SubConfiguration("raw stream h^l", _sweeps.PAPER_FAMILY, "erank_raw"),
                      SubConfiguration("PCs for 90 % of the variance of LN(h^l)", _sweeps.PAPER_FAMILY, "pc90_ln"),
                      _ISOLATED),
    "P1-ii-present": (_RING, _ISOLATED),
    "P1-ii-absent": (_RING, _ISOLATED),
    "P1-iii-concentrated": (_RING, _ISOLATED),
    "P1-iii-plateau": (_RING, _ISOLATED),
}


def _depth(meas: _measure.Measurements) -> int:
    return max(meas.results[_sweeps.PAPER_FAMILY].config.depths)


def _seed_check(meas: _measure.Measurements, family: str, xi: float) -> None:
    if meas.seeds_of(_sweeps.SHUFFLED) != meas.seeds_of(family, xi):
        raise ValueError(f"the shuffled networks' seeds {meas.seeds_of(_sweeps.SHUFFLED)} must be those of {family} "
                         f"at xi = {xi:g}, {meas.seeds_of(family, xi)} (contrasts are paired by seed)")


def contrasts_of(meas: _measure.Measurements, claim_id: str, family: str, xi: float,
                 quantity: str | None = None) -> tuple[dict[str, effects.Effect], np.ndarray, bool]:
    """The paired contrasts of a finding's per-seed statistic on (family, xi): trained minus initialised,
    and trained minus the shuffled-chain networks probed on the same sequences (when measured there).
    Returns ``(contrasts, trained per-seed statistic, whether the shuffled null was used)``."""
    q, stat = STATISTICS[check_choice("claim_id", claim_id, tuple(STATISTICS))]
    q = quantity or q
    scale = _registry.BY_ID[claim_id].scale
    trained = stat(meas.get(family, q, "trained", xi))
    out = {INIT_CONTRAST: effects.paired(trained, stat(meas.get(family, q, "init", xi)), scale)}
    probe = _measure.on_chain(family, xi)
    has_null = (_sweeps.SHUFFLED, "trained", probe) in meas.values
    if has_null:
        _seed_check(meas, family, xi)
        out[SHUFFLED_CONTRAST] = effects.paired(trained, stat(meas.get(_sweeps.SHUFFLED, q, "trained", probe=probe)),
                                                scale)
    return out, trained, has_null


def finding_evidence(meas: _measure.Measurements, claim_id: str, label: str, family: str,
                     quantity: str | None = None) -> Evidence:
    """The evidence of a finding on one configuration (``family`` at its xi ~ 1, or xi ~ 7 for the absence claim)."""
    xi1, xi7 = _measure.paper_xis(meas.results[family].config.xis)
    xi = xi7 if claim_id == "P1-ii-absent" else xi1
    contrasts, trained, has_null = contrasts_of(meas, claim_id, family, xi, quantity)
    control = {}
    if claim_id == "P1-ii-absent":
        control = {f"{INIT_CONTRAST}, xi = {xi1:g}": contrasts_of(meas, "P1-ii-present", family, xi1)[0][INIT_CONTRAST]}
    ok, detail = _gate.premise(meas.results, (family, _sweeps.SHUFFLED) if has_null else (family,))
    note = "" if has_null else "no shuffled-chain networks measured on these probes: the initialisation contrast only"
    return Evidence(configuration=f"{label}, xi = {xi:g}, depth {_depth(meas)}", contrasts=contrasts,
                    statistic=mean_ci(trained),
                    positive_control=control, premise_met=ok, premise_detail=detail, n=len(trained), n_unit="seeds",
                    note=note)


def finding_row(meas: _measure.Measurements, claim_id: str, profile: str, reading: str = _sweeps.MAIN_READING):
    """One registered finding evaluated on the primary configuration (potts) with its sub-configurations."""
    spec = _registry.BY_ID[claim_id] if reading == _sweeps.MAIN_READING else _registry.robust(_registry.BY_ID[claim_id])
    primary = finding_evidence(meas, claim_id, "potts", _sweeps.PAPER_FAMILY)
    others = [finding_evidence(meas, claim_id, c.label, c.family, c.quantity) for c in SUB_CONFIGURATIONS[claim_id]
              if c.family in meas.results]
    return evaluate(spec, primary, others=others, profile=profile)


def rank_collapse_rows(meas: _measure.Measurements, profile: str, reading: str = _sweeps.MAIN_READING) -> list:
    """Finding (i): Spearman rho(l, erank(l)) over l >= 1, against both nulls."""
    return [finding_row(meas, "P1-i-monotone", profile, reading)]


def relevance_gain_evidence(meas: _measure.Measurements) -> Evidence | None:
    """The relevance-gain coefficient per seed (``relevance_gain``), as a contrast with initialisation (the gain
    itself) and with the shuffled-chain networks' coefficient on the same design; None when not estimable."""
    gain, null = relevance_gain(meas), relevance_gain(meas, _sweeps.SHUFFLED)
    if gain["slope"] is None:
        return None
    contrasts = {INIT_CONTRAST: effects.from_differences(gain["coef"])}
    if null["slope"] is not None:
        contrasts[SHUFFLED_CONTRAST] = effects.paired(gain["coef"], null["coef"])
    ok, detail = _gate.premise(meas.results, _measure.RELEVANCE_FAMILIES + (_sweeps.SHUFFLED,))
    return Evidence(configuration=f"{len(gain['cells'])} chains (potts and ring, every xi), depth {_depth(meas)}",
                    contrasts=contrasts, statistic=gain["slope"], premise_met=ok, premise_detail=detail,
                    n=len(gain["coef"]), n_unit="seeds", note=f"task scale s = {meas.scale:.3f} positions")


def relevance_rows(meas: _measure.Measurements, profile: str) -> list:
    """The relevance-gain row (ours), or no row when the gain is not estimable (too few chains or seeds)."""
    ev = relevance_gain_evidence(meas)
    return [] if ev is None else [evaluate(_registry.RELEVANCE_GAIN, ev, profile=profile)]


def selectivity_rows(meas: _measure.Measurements, profile: str, reading: str = _sweeps.MAIN_READING) -> list:
    """Finding (ii): presence at xi ~ 1, absence at xi ~ 7 (with its positive control); the relevance gain (ours)."""
    rows = [finding_row(meas, cid, profile, reading) for cid in ("P1-ii-present", "P1-ii-absent")]
    return rows + (relevance_rows(meas, profile) if reading == _sweeps.MAIN_READING else [])


def collapse_by_seed(meas: _measure.Measurements, family: str, xi: float, stage: str = "trained",
                     probe: _measure.Probe = _measure.OWN,
                     quantity: str = "erank_ln") -> np.ndarray:
    """Normalised collapse c = dim(L) / dim(1) per seed."""
    return collapse_from_1(meas.get(family, quantity, stage, xi, probe=probe))


def drift_by_seed(meas: _measure.Measurements, family: str, xi: float | None, stage: str = "trained",
                  probe: _measure.Probe = _measure.OWN) -> np.ndarray:
    """Drift profiles (n_seeds, L), transitions 0 -> 1, ..., L-1 -> L."""
    return meas.get(family, "drift", stage, xi, probe=probe)


def kernel_drift_rows(meas: _measure.Measurements, profile: str, reading: str = _sweeps.MAIN_READING) -> list:
    """Finding (iii): concentration (top-two share over l >= 1) and plateau, against both nulls."""
    return [finding_row(meas, cid, profile, reading) for cid in ("P1-iii-concentrated", "P1-iii-plateau")]


def robustness_rows(meas: _measure.Measurements, profile: str) -> list:
    """Findings (i)-(iii) for the robustness reading (``meas`` of ``sweeps.reading(results,
    ROBUSTNESS_READING)``): the same registered tests under ``robust-`` ids."""
    return (rank_collapse_rows(meas, profile, _sweeps.ROBUSTNESS_READING)
            + selectivity_rows(meas, profile, _sweeps.ROBUSTNESS_READING)
            + kernel_drift_rows(meas, profile, _sweeps.ROBUSTNESS_READING))


def _effects_text(row) -> str:
    """A row's contrasts with their intervals, as its claims table shows them."""
    return "; ".join(f"{k}: {v['text']}" for k, v in (getattr(row, "effects", None) or {}).items()) or "n/a"


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
                    "main measured": _effects_text(r), "robust measured": _effects_text(robust[r.id])})
    return out
