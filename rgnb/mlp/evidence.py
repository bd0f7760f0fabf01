"""The evidence of the P1 protocol-v3 claims (:data:`rgnb.mlp.registry.PROTOCOL_V3`) and their rows.

Input: each shape's paired measurements (``rgnb.mlp.paired``: the chain networks at initialisation and
trained, and the shuffled-chain networks trained, seed by seed on the seed's own probes) and the
sweeps (for the convergence-gate premise). Every contrast is a per-seed paired difference
(``rgnb.effects``: exact sign-flip intervals); the pooled rows concatenate the seed pairs of the
shapes they pool. The primary configuration of each row is the one its spec registers; every other
shape is a sub-row.
"""

from __future__ import annotations

import numpy as np

from rgnb import effects
from rgnb.claims import Evidence, evaluate
from rgnb.mlp import gate as _gate
from rgnb.mlp import paired as _paired
from rgnb.mlp import registry as _registry
from rgnb.mlp import statistics as _statistics
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp.findings import plateau_level, top2_share
from rgnb.stats import mean_ci

XI_SHORT, XI_LONG = 1.0, 7.0
INIT, SHUFFLED = "initialisation", "shuffled chain"
ERANK, PC90, DRIFT = "erank_ln", "pc90_ln", "drift"


def _label(shape: _sweeps.ScanShape) -> str:
    return f"depth {shape.depth}, V = {shape.vocab_size}"


def _premise(sweeps_of: dict, shapes) -> tuple[bool, str]:
    """The gate over the chain and shuffled-chain networks of ``shapes`` (``sweeps_of``: shape -> pair)."""
    results = {f"{kind}, {_label(s)}": r for s in shapes for kind, r in zip(("potts", "shuffled"), sweeps_of[s])}
    return _gate.premise(results)


def _evidence(configuration: str, contrasts: dict[str, np.ndarray], statistic: np.ndarray, premise: tuple[bool, str],
              control: dict[str, np.ndarray] | None = None, n_unit: str = "seeds") -> Evidence:
    ok, detail = premise
    return Evidence(configuration=configuration,
                    contrasts={k: effects.from_differences(v) for k, v in contrasts.items()},
                    statistic=mean_ci(statistic),
                    positive_control={k: effects.from_differences(v) for k, v in (control or {}).items()},
                    premise_met=ok, premise_detail=detail, n=len(statistic), n_unit=n_unit)


# ----------------------------------------------------------------------------- per-shape statistics
def violations(m: _paired.ShapeMeasurements, arm: str, xi: float) -> np.ndarray:
    return _statistics.violation_mass(m.get(arm, ERANK, xi))


def log_c(m: _paired.ShapeMeasurements, arm: str, xi: float) -> np.ndarray:
    return _statistics.log_collapse(m.get(arm, ERANK, xi))


def collapse_contrasts(m: _paired.ShapeMeasurements, xi: float) -> dict[str, np.ndarray]:
    """log c trained minus initialised, and minus the shuffled-chain network on the same probes, per seed."""
    t = log_c(m, "chain-trained", xi)
    return {INIT: t - log_c(m, "chain-init", xi), SHUFFLED: t - log_c(m, "shuffled-trained", xi)}


def selectivity(m: _paired.ShapeMeasurements) -> np.ndarray:
    """The difference in differences of log c, xi ~ 1 minus xi ~ 7, chain minus shuffled networks, per seed."""
    return collapse_contrasts(m, XI_SHORT)[SHUFFLED] - collapse_contrasts(m, XI_LONG)[SHUFFLED]


def dose_slopes(m: _paired.ShapeMeasurements) -> np.ndarray:
    """Per seed, the slope over the xi grid of (log c chain minus shuffled) on log xi."""
    values = np.stack([collapse_contrasts(m, xi)[SHUFFLED] for xi in m.xis], axis=1)
    return _statistics.trend_slopes(values, np.log(m.xis))


# ----------------------------------------------------------------------------- rows
def _monotone(m, shape, premise, xi=XI_SHORT):
    v = violations(m, "chain-trained", xi)
    return _evidence(f"potts, xi = {xi:g}, {_label(shape)}", {_registry.MONOTONE_CONTRAST: v}, v, premise,
                     control={INIT: violations(m, "chain-init", xi)})


def _pooled(measured: dict, shapes, build, configuration: str, premise, n_unit: str = "seeds") -> Evidence:
    """The evidence of ``build`` (measurements -> (contrasts, statistic, controls), per-unit arrays) with the
    units of every shape in ``shapes`` concatenated."""
    parts = [build(measured[s]) for s in shapes]
    contrasts = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    control = {k: np.concatenate([p[2][k] for p in parts]) for k in parts[0][2]}
    return _evidence(configuration, contrasts, np.concatenate([p[1] for p in parts]), premise, control, n_unit)


def _present(m):
    c = collapse_contrasts(m, XI_SHORT)
    return c, log_c(m, "chain-trained", XI_SHORT), {}


def _absent(m):
    return ({SHUFFLED: collapse_contrasts(m, XI_LONG)[SHUFFLED]}, log_c(m, "chain-trained", XI_LONG),
            {f"{SHUFFLED}, xi = {XI_SHORT:g}": collapse_contrasts(m, XI_SHORT)[SHUFFLED]})


def _selective(m):
    d = selectivity(m)
    return {SHUFFLED: d}, d, {}


def _drift(m, xi=XI_SHORT):
    return m.get("chain-trained", DRIFT, xi), m.get("chain-init", DRIFT, xi), m.get("shuffled-trained", DRIFT, xi)


def _concentrated(m, shape, premise):
    t, i, _ = _drift(m)
    return _evidence(f"potts, xi = {XI_SHORT:g}, {_label(shape)}", {INIT: top2_share(t) - top2_share(i)},
                     top2_share(t), premise)


def _by_chain(m, shape, premise):
    t, _, s = _drift(m)
    a = _statistics.live_excess_concentration(t)
    return _evidence(f"potts, xi = {XI_SHORT:g}, {_label(shape)}",
                     {SHUFFLED: a - _statistics.live_excess_concentration(s)}, a, premise)


def _plateau(m, shape, premise):
    t, i, _ = _drift(m)
    a, b = plateau_level(t), plateau_level(i)
    ok, detail = premise
    return Evidence(configuration=f"potts, xi = {XI_SHORT:g}, {_label(shape)}",
                    contrasts={INIT: effects.paired(a, b, "log-ratio")}, statistic=mean_ci(np.log(a)),
                    premise_met=ok, premise_detail=detail, n=len(a), n_unit="seeds")


READOUT = "the readout's dimension V - 1"


def _bulk(m):
    """Per network (both chains of the shape), the bulk dimension's excess over V - 1, trained and initialised."""
    V = m.shape.vocab_size
    t, i = (np.concatenate([_statistics.bulk_excess(m.get(arm, PC90, xi), V) for xi in (XI_SHORT, XI_LONG)])
            for arm in ("chain-trained", "chain-init"))
    return {READOUT: t}, t, {INIT: i}


#: The drift rows need a third transition beyond the top two over l >= 1 (the plateau), so L >= 4; a shallower
#: shape (only the smoke profile has one) is left out of them.
DRIFT_MIN_DEPTH = 4


def _rows_per_shape(spec_id: str, build, measured: dict, sweeps_of: dict, main: _sweeps.ScanShape, profile: str,
                    min_depth: int = 2):
    spec = _registry.BY_ID[spec_id]
    primary = build(measured[main], main, _premise(sweeps_of, [main]))
    others = [build(measured[s], s, _premise(sweeps_of, [s])) for s in sorted(measured, key=_order)
              if s != main and s.depth >= min_depth]
    return evaluate(spec, primary, others=others, profile=profile)


def _order(shape: _sweeps.ScanShape) -> tuple[int, int]:
    return (shape.vocab_size, shape.depth)


def _rows_pooled(spec_id: str, build, measured: dict, sweeps_of: dict, profile: str, xi_text: str):
    spec = _registry.BY_ID[spec_id]
    shapes = sorted(measured, key=_order)
    primary = _pooled(measured, shapes, build, f"potts, {xi_text}, {len(shapes)} shapes pooled", _premise(sweeps_of, shapes))
    others = [_pooled(measured, [s], build, f"potts, {xi_text}, {_label(s)}", _premise(sweeps_of, [s])) for s in shapes]
    return evaluate(spec, primary, others=others, profile=profile)


def protocol_v3_rows(measured: dict[_sweeps.ScanShape, _paired.ShapeMeasurements], sweeps_of: dict,
                     main: _sweeps.ScanShape, profile: str) -> list:
    """One row per protocol-v3 claim (:data:`rgnb.mlp.registry.PROTOCOL_V3`), in registry order.

    ``measured``: shape -> paired measurements; ``sweeps_of``: shape -> (chain sweep, shuffled sweep);
    ``main``: the main shape (the primary configuration of the per-shape rows). The pooled (ii) rows
    pool every measured shape; the dose-response row and the bulk row need the main shape's xi grid
    and the vocabulary scan, and are left out (with a note in their place) when those are missing.
    """
    if main not in measured:
        raise ValueError(f"the main shape {main} must be measured, got {sorted(measured, key=_order)}")
    rows = [_rows_per_shape("P1-i-monotone-v3", _monotone, measured, sweeps_of, main, profile),
            _rows_pooled("P1-ii-present-v3", _present, measured, sweeps_of, profile, f"xi = {XI_SHORT:g}"),
            _rows_pooled("P1-ii-absent-v3", _absent, measured, sweeps_of, profile, f"xi = {XI_LONG:g}"),
            _rows_pooled("P1-ii-selective", _selective, measured, sweeps_of, profile,
                         f"xi = {XI_SHORT:g} against {XI_LONG:g}")]
    m = measured[main]
    if len(m.xis) >= 3:
        slopes = dose_slopes(m)
        ev = _evidence(f"potts, xi in {{{', '.join(f'{x:g}' for x in m.xis)}}}, {_label(main)}", {SHUFFLED: slopes},
                       slopes, _premise(sweeps_of, [main]))
        rows.append(evaluate(_registry.BY_ID["ours-ii-dose-response"], ev, profile=profile))
    rows += [_rows_per_shape(cid, build, measured, sweeps_of, main, profile, DRIFT_MIN_DEPTH)
             for cid, build in (("P1-iii-concentrated-v3", _concentrated), ("ours-iii-concentration-by-chain", _by_chain),
                                ("P1-iii-plateau-v3", _plateau))]
    vocab = sorted((s for s in measured if s.depth == main.depth), key=_order)
    if len({s.vocab_size for s in vocab}) >= 2:
        xis = f"xi = {XI_SHORT:g} and {XI_LONG:g}"
        pooled = _pooled(measured, vocab, _bulk, f"potts, {xis}, depth {main.depth}, V = "
                         f"{', '.join(str(s.vocab_size) for s in vocab)} pooled", _premise(sweeps_of, vocab), "networks")
        parts = [_pooled(measured, [s], _bulk, f"potts, {xis}, {_label(s)}", _premise(sweeps_of, [s]), "networks")
                 for s in vocab]
        rows.append(evaluate(_registry.BY_ID["ours-bulk-tracks-vocab"], pooled, others=parts, profile=profile))
    return rows


def chapter_rows(rows: list, chapter: str) -> list:
    """The rows of ``rows`` whose claim belongs to ``chapter`` (``rank_collapse``, ``selectivity``, ``kernel_drift``)."""
    chapters = sorted({s.chapter for s in _registry.PROTOCOL_V3})
    if chapter not in chapters:
        raise ValueError(f"chapter must be one of {chapters}, got {chapter!r}")
    return [r for r in rows if r.chapter == chapter]


def measure_all(main: dict, scan: dict, cache_dir=None) -> tuple[dict, dict, _sweeps.ScanShape]:
    """Every shape's paired measurements: ``(measured, sweeps_of, main shape)`` for :func:`protocol_v3_rows`."""
    pairs = _paired.shape_pairs(main, scan)
    c = main[_sweeps.PAPER_FAMILY].config
    main_shape = _sweeps.ScanShape(max(c.depths), c.vocab_size)
    measured = {s: _paired.measure_shape_cached(a, b, cache_dir) for s, (a, b) in pairs.items()}
    return measured, pairs, main_shape


__all__ = ["protocol_v3_rows", "measure_all", "chapter_rows", "DRIFT_MIN_DEPTH", "collapse_contrasts", "selectivity", "dose_slopes", "violations",
           "log_c"]
