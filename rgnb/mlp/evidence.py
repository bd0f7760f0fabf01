"""The evidence of the P1 protocol-v3 claims (:data:`rgnb.mlp.registry.PROTOCOL_V3`) and their rows.

Input: each shape's paired measurements (``rgnb.mlp.paired``: the chain networks at initialisation and
trained, and the shuffled-chain networks trained, seed by seed on the seed's own probes) and the
sweeps (for the convergence-gate premise). Every contrast is a per-seed paired difference
(``rgnb.effects``: exact sign-flip intervals); the pooled rows concatenate the seed pairs of the
shapes they pool. The primary configuration of each row is the one its spec registers; every other
shape is a sub-row, and so are the registered variants at the main shape (the ring chain, isolated
masking: each paired with the shuffled-chain networks on its own probes).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rgnb import effects
from rgnb.claims import Evidence, evaluate
from rgnb.mlp import gate as _gate
from rgnb.mlp import paired as _paired
from rgnb.mlp import registry as _registry
from rgnb.mlp import shipped_measurements as _shipped_measurements
from rgnb.mlp import statistics as _statistics
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train
from rgnb.mlp.findings import plateau_level, top2_share
from rgnb.stats import mean_ci

XI_SHORT, XI_LONG = 1.0, 7.0
INIT, SHUFFLED = "initialisation", "shuffled chain"
ERANK, PC90, DRIFT = "erank_ln", "pc90_ln", "drift"


def _label(shape: _sweeps.ScanShape) -> str:
    return f"depth {shape.depth}, V = {shape.vocab_size}"


#: The registered variants of the main shape (sub-rows): main-sweep family -> the name its rows carry.
VARIANTS = {"ring": "ring", "potts-isolated": "potts, isolated masking"}


@dataclasses.dataclass(frozen=True)
class Configuration:
    """One measured configuration: a chain family at one shape, paired with the shuffled-chain networks of that
    shape (``rgnb.mlp.paired``), and both sweeps (for the gate)."""

    family: str
    measurements: _paired.ShapeMeasurements
    chain: _train.SweepResult
    shuffled: _train.SweepResult

    @property
    def shape(self) -> _sweeps.ScanShape:
        return self.measurements.shape

    def label(self, xi_text: str) -> str:
        return f"{self.family}, {xi_text}, {_label(self.shape)}"


@dataclasses.dataclass(frozen=True)
class ScanMeasurements:
    """The P1 scan measured: the paper's chain at every shape (``shapes``), the registered variants at the
    main shape (``variants``), and which shape is the main one."""

    main: _sweeps.ScanShape
    shapes: dict[_sweeps.ScanShape, Configuration]
    variants: tuple[Configuration, ...] = ()

    @property
    def measured(self) -> dict[_sweeps.ScanShape, _paired.ShapeMeasurements]:
        """Shape -> the paper chain's paired measurements."""
        return {s: c.measurements for s, c in self.shapes.items()}

    def ordered(self) -> list[Configuration]:
        """The paper chain's configurations in (V, L) order."""
        return [self.shapes[s] for s in sorted(self.shapes, key=_order)]


def _order(shape: _sweeps.ScanShape) -> tuple[int, int]:
    return (shape.vocab_size, shape.depth)


def _premise(configs) -> tuple[bool, str]:
    """The gate over the chain and shuffled-chain networks of ``configs``."""
    results = {}
    for c in configs:
        results[f"{c.family}, {_label(c.shape)}"] = c.chain
        results[f"shuffled, {_label(c.shape)}"] = c.shuffled
    return _gate.premise(results)


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
# A build maps one configuration's measurements to per-unit arrays: (contrasts, statistic, controls).
def _monotone(m):
    v = violations(m, "chain-trained", XI_SHORT)
    return {_registry.MONOTONE_CONTRAST: v}, v, {INIT: violations(m, "chain-init", XI_SHORT)}


def _present(m):
    return collapse_contrasts(m, XI_SHORT), log_c(m, "chain-trained", XI_SHORT), {}


def _absent(m):
    return ({SHUFFLED: collapse_contrasts(m, XI_LONG)[SHUFFLED]}, log_c(m, "chain-trained", XI_LONG),
            {f"{SHUFFLED}, xi = {XI_SHORT:g}": collapse_contrasts(m, XI_SHORT)[SHUFFLED]})


def _selective(m):
    d = selectivity(m)
    return {SHUFFLED: d}, d, {}


def _dose(m):
    slopes = dose_slopes(m)
    return {SHUFFLED: slopes}, slopes, {}


def _drift(m, xi=XI_SHORT):
    return m.get("chain-trained", DRIFT, xi), m.get("chain-init", DRIFT, xi), m.get("shuffled-trained", DRIFT, xi)


def _concentrated(m):
    t, i, _ = _drift(m)
    return {INIT: top2_share(t) - top2_share(i)}, top2_share(t), {}


def _by_chain(m):
    t, _, s = _drift(m)
    a = _statistics.live_excess_concentration(t)
    return {SHUFFLED: a - _statistics.live_excess_concentration(s)}, a, {}


def _plateau(m):
    t, i, _ = _drift(m)
    a, b = np.log(plateau_level(t)), np.log(plateau_level(i))
    return {INIT: a - b}, a, {}


READOUT = "the readout's dimension V - 1"


def _bulk(m):
    """Per network (both chains of the shape), the bulk dimension's excess over V - 1, trained and initialised."""
    V = m.shape.vocab_size
    t, i = (np.concatenate([_statistics.bulk_excess(m.get(arm, PC90, xi), V) for xi in (XI_SHORT, XI_LONG)])
            for arm in ("chain-trained", "chain-init"))
    return {READOUT: t}, t, {INIT: i}


def _pooled(configs: list[Configuration], build, configuration: str, n_unit: str = "seeds",
            scale: str = "difference") -> Evidence:
    """The evidence of ``build`` with the units of every configuration in ``configs`` concatenated."""
    parts = [build(c.measurements) for c in configs]
    ok, detail = _premise(configs)
    statistic = np.concatenate([p[1] for p in parts])
    return Evidence(configuration=configuration,
                    contrasts={k: effects.from_differences(np.concatenate([p[0][k] for p in parts]), scale)
                               for k in parts[0][0]},
                    statistic=mean_ci(statistic),
                    positive_control={k: effects.from_differences(np.concatenate([p[2][k] for p in parts]))
                                      for k in parts[0][2]},
                    premise_met=ok, premise_detail=detail, n=len(statistic), n_unit=n_unit)


#: The drift rows need a third transition beyond the top two over l >= 1 (the plateau), so L >= 4; a shallower
#: shape (only the smoke profile has one) is left out of them.
DRIFT_MIN_DEPTH = 4


def _row(spec_id: str, build, primary: list[Configuration], others: list[Configuration], xi_text: str,
         profile: str, pooled_label: str = "", n_unit: str = "seeds", scale: str = "difference"):
    primary_ev = _pooled(primary, build, pooled_label or primary[0].label(xi_text), n_unit, scale)
    sub = [_pooled([c], build, c.label(xi_text), n_unit, scale) for c in others]
    return evaluate(_registry.BY_ID[spec_id], primary_ev, others=sub, profile=profile)


_X1, _X7 = f"xi = {XI_SHORT:g}", f"xi = {XI_LONG:g}"
#: Each claim tested one configuration at a time (per shape, or on the robustness reading alone; the pooled rows
#: concatenate configurations): its build, the chains its configuration's label names, and its interval scale.
SINGLE_CONFIGURATION = {
    "P1-i-monotone-v3": (_monotone, _X1, "difference"),
    "P1-ii-present-v3": (_present, _X1, "difference"),
    "P1-ii-absent-v3": (_absent, _X7, "difference"),
    "P1-ii-selective": (_selective, f"{_X1} against {XI_LONG:g}", "difference"),
    "P1-iii-concentrated-v3": (_concentrated, _X1, "difference"),
    "ours-iii-concentration-by-chain": (_by_chain, _X1, "difference"),
    "P1-iii-plateau-v3": (_plateau, _X1, "log-ratio"),
}


def _single_configuration_rows(config: Configuration, profile: str, ids: list[tuple[str, str]]) -> list:
    """Rows ``(row id, claim)`` of :data:`SINGLE_CONFIGURATION`'s tests on ``config`` alone."""
    rows = []
    for row_id, claim in ids:
        build, xi_text, scale = SINGLE_CONFIGURATION[claim]
        rows.append(_row(row_id, build, [config], [], xi_text, profile, scale=scale))
    return rows


def robustness_rows(config: Configuration, profile: str) -> list:
    """The protocol-v3 rows of the robustness reading (:data:`rgnb.mlp.registry.ROBUSTNESS_V3`, ids
    ``robust-<id>``): each claim's test on ``config`` (the mixer without LayerNorm at the main shape) alone."""
    return _single_configuration_rows(config, profile,
                                      [(s.id, s.id.removeprefix("robust-")) for s in _registry.ROBUSTNESS_V3])


def main_shape_rows(config: Configuration, profile: str) -> list:
    """The claims of :func:`robustness_rows` for the main reading on the main shape alone (``config``: the
    configuration the robustness rows have, in the main reading), under the main ids: to compare the two readings
    like with like. Not a ledger's rows: the registered primary of a pooled claim is the pooled scan
    (:func:`protocol_v3_rows`)."""
    claims = [s.id.removeprefix("robust-") for s in _registry.ROBUSTNESS_V3]
    return _single_configuration_rows(config, profile, [(c, c) for c in claims])


def protocol_v3_rows(scan: ScanMeasurements, profile: str) -> list:
    """One row per protocol-v3 claim (:data:`rgnb.mlp.registry.PROTOCOL_V3`), in registry order.

    Per-shape rows: the main shape decides, every other shape and variant is a sub-row (the drift rows
    only those with L >= :data:`DRIFT_MIN_DEPTH`). Pooled (ii) rows: every shape of the paper's chain
    pooled decides, each shape and variant is a sub-row. The dose-response row needs the main shape's xi
    grid (three chains or more) and the bulk row the vocabulary scan; each is left out when missing.
    """
    if scan.main not in scan.shapes:
        raise ValueError(f"the main shape {scan.main} must be measured, got {sorted(scan.shapes, key=_order)}")
    main = scan.shapes[scan.main]
    shapes = scan.ordered()
    others = [c for c in shapes if c.shape != scan.main] + list(scan.variants)
    pooled = f"{len(shapes)} shapes pooled"
    build, xi_text, _ = SINGLE_CONFIGURATION["P1-i-monotone-v3"]
    rows = [_row("P1-i-monotone-v3", build, [main], others, xi_text, profile)]
    for cid in ("P1-ii-present-v3", "P1-ii-absent-v3", "P1-ii-selective"):
        build, xi_text, _ = SINGLE_CONFIGURATION[cid]
        rows.append(_row(cid, build, shapes, shapes + list(scan.variants), xi_text, profile,
                         pooled_label=f"potts, {xi_text}, {pooled}"))
    if len(main.measurements.xis) >= 3:
        grid = [c for c in scan.variants if len(c.measurements.xis) >= 3]
        xi_text = f"xi in {{{', '.join(f'{x:g}' for x in main.measurements.xis)}}}"
        rows.append(_row("ours-ii-dose-response", _dose, [main], grid, xi_text, profile))
    deep = [c for c in others if c.shape.depth >= DRIFT_MIN_DEPTH]
    for cid in ("P1-iii-concentrated-v3", "ours-iii-concentration-by-chain", "P1-iii-plateau-v3"):
        build, xi_text, scale = SINGLE_CONFIGURATION[cid]
        rows.append(_row(cid, build, [main], deep, xi_text, profile, scale=scale))
    vocab = [c for c in shapes if c.shape.depth == scan.main.depth]
    if len(vocab) >= 2:
        xi_text = f"xi = {XI_SHORT:g} and {XI_LONG:g}"
        label = (f"potts, {xi_text}, depth {scan.main.depth}, V = {', '.join(str(c.shape.vocab_size) for c in vocab)}, "
                 "each V its own contrast")
        sub = [_pooled([c], _bulk, c.label(xi_text), "networks") for c in vocab]
        rows.append(evaluate(_registry.BY_ID["ours-bulk-tracks-vocab"], bulk_by_vocabulary(vocab, label), others=sub,
                             profile=profile))
    return rows


def bulk_by_vocabulary(configs: list[Configuration], configuration: str) -> Evidence:
    """The bulk row's evidence: one contrast per vocabulary size (the bulk excess over V - 1 of that V's
    networks), so that every V must be within the margin (an intersection-union test), with the positive control
    (the same networks at initialisation) pooled over the V's."""
    parts = [(c.shape.vocab_size, _bulk(c.measurements)) for c in configs]
    if len({v for v, _ in parts}) != len(parts):
        raise ValueError(f"configs must hold one configuration per vocabulary size, got {[v for v, _ in parts]}")
    ok, detail = _premise(configs)
    statistic = np.concatenate([p[1] for _, p in parts])
    return Evidence(configuration=configuration,
                    contrasts={f"{READOUT}, V = {v}": effects.from_differences(p[0][READOUT]) for v, p in parts},
                    statistic=mean_ci(statistic),
                    positive_control={INIT: effects.from_differences(np.concatenate([p[2][INIT] for _, p in parts]))},
                    premise_met=ok, premise_detail=detail, n=len(statistic), n_unit="networks")


def chapter_rows(rows: list, chapter: str) -> list:
    """The rows of ``rows`` whose claim belongs to ``chapter`` (``rank_collapse``, ``selectivity``, ``kernel_drift``)."""
    chapters = sorted({s.chapter for s in _registry.PROTOCOL_V3})
    if chapter not in chapters:
        raise ValueError(f"chapter must be one of {chapters}, got {chapter!r}")
    return [r for r in rows if r.chapter == chapter]


def _store(shipped_dir) -> "_shipped_measurements.MeasurementStore | None":
    return None if shipped_dir is None else _shipped_measurements.MeasurementStore.open(shipped_dir)


def measure_all(main: dict, scan: dict, cache_dir=None, shipped_dir=None) -> ScanMeasurements:
    """Every shape's paired measurements (the main sweeps' potts / shuffled and each scan pair) and the
    registered variants present among the main sweeps (:data:`VARIANTS`), each paired with the main
    shuffled-chain sweep on its own probes. ``shipped_dir``: where shipped measurements are read (and
    checked) from (``rgnb.mlp.shipped_measurements``; default: measure every pair here)."""
    store = _store(shipped_dir)

    def measure(a, b):
        return _shipped_measurements.measure_pair(a, b, store, cache_dir)

    pairs = _paired.shape_pairs(main, scan)
    c = main[_sweeps.PAPER_FAMILY].config
    main_shape = _sweeps.ScanShape(max(c.depths), c.vocab_size)
    shapes = {s: Configuration(_sweeps.PAPER_FAMILY, measure(a, b), a, b) for s, (a, b) in pairs.items()}
    variants = tuple(Configuration(name, measure(main[f], main[_sweeps.SHUFFLED]), main[f], main[_sweeps.SHUFFLED])
                     for f, name in VARIANTS.items() if f in main and _sweeps.SHUFFLED in main)
    return ScanMeasurements(main_shape, shapes, variants)


#: The label of the robustness reading's configuration (its chain family without LayerNorm).
ROBUST_FAMILY = f"{_sweeps.PAPER_FAMILY}, no LayerNorm"


def measure_reading(reading: dict, family: str = _sweeps.PAPER_FAMILY, cache_dir=None,
                    shipped_dir=None) -> Configuration:
    """The main shape of one reading measured (``reading``: ``sweeps.reading(results, architecture)``, its
    paper-chain and shuffled-chain sweeps), read from the shipped measurements where they are; ``family``: the
    configuration's label (:data:`ROBUST_FAMILY` for the robustness reading)."""
    for f in (_sweeps.PAPER_FAMILY, _sweeps.SHUFFLED):
        if f not in reading:
            raise ValueError(f"the reading must hold the {f!r} sweep, got {sorted(reading)}")
    store = _store(shipped_dir)
    chain, shuffled = reading[_sweeps.PAPER_FAMILY], reading[_sweeps.SHUFFLED]
    return Configuration(family, _shipped_measurements.measure_pair(chain, shuffled, store, cache_dir), chain, shuffled)


def configurations(scan: ScanMeasurements) -> list[Configuration]:
    """Every configuration of ``scan``: the paper chain's shapes in (V, L) order, then the variants."""
    return scan.ordered() + list(scan.variants)


__all__ = ["protocol_v3_rows", "robustness_rows", "main_shape_rows", "measure_reading", "ROBUST_FAMILY",
           "SINGLE_CONFIGURATION", "bulk_by_vocabulary", "measure_all", "configurations", "chapter_rows", "Configuration", "ScanMeasurements", "VARIANTS",
           "DRIFT_MIN_DEPTH", "READOUT", "collapse_contrasts", "selectivity", "dose_slopes", "violations", "log_c"]
