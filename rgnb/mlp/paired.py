"""Protocol-v3 measurements of the P1 findings: every network and its nulls on the seed's own probes.

For one network shape (depth L, vocabulary V: the main sweeps or a sweep pair of the scan,
``rgnb.mlp.sweeps.SCAN``) the chain sweep (potts, its xi grid) and the shuffled-chain sweep of the
same shape are measured seed by seed: seed ``s`` draws its own probe set of each chain xi
(``rgnb.mlp.statistics.probe_seed``), and on it are measured the chain network (xi, s) at
initialisation and trained, and the shuffled-chain network of seed s, trained. (At initialisation
the shuffled network of seed s *is* the chain network of seed s: the initial weights depend on the
seed only.) So every contrast pairs two measurements on the same sequences, and the interval over
seeds includes probe sampling. Quantities per network: the masked-row profiles of
``rgnb.metrics.masked_dimension_profile`` (erank, participation ratio, PCs for 90 %, of LN(h^l) and
of h^l; (L+1,)) and the drift profile ((L,)).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rgnb import cache as _cache
from rgnb.mlp import data as _data
from rgnb.mlp import measure as _measure_v2
from rgnb.mlp import statistics as _statistics
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train
from rgnb.validate import check_choice

#: What is measured per (xi, seed): the chain network at both stages, the shuffled-chain network trained.
ARMS = ("chain-init", "chain-trained", "shuffled-trained")
QUANTITIES = _measure_v2.PROFILE_QUANTITIES + ("drift",)


@dataclasses.dataclass(frozen=True)
class ShapeMeasurements:
    """One shape's paired measurements: ``values[arm][quantity]`` is (n_xis, n_seeds, K), K = L+1 for the
    profiles and L for ``drift``; ``xis`` and ``seeds`` index the first two axes."""

    shape: _sweeps.ScanShape
    xis: tuple[float, ...]
    seeds: tuple[int, ...]
    values: dict[str, dict[str, np.ndarray]]

    def get(self, arm: str, quantity: str, xi: float) -> np.ndarray:
        """(n_seeds, K) values of ``arm`` on chain ``xi`` (seeds in :attr:`seeds` order)."""
        a = self.values[check_choice("arm", arm, ARMS)]
        q = check_choice("quantity", quantity, tuple(a))
        if float(xi) not in self.xis:
            raise ValueError(f"xi must be one of {self.xis}, got {xi!r}")
        return a[q][self.xis.index(float(xi))]


def probe_set(chain: _train.SweepResult, xi: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed ``seed``'s probe set of chain ``xi`` of the chain sweep: (tokens, mask, inputs), each (n_probe, T)."""
    cfg = chain.config
    tokens, mask, inputs = _data.fixed_set(cfg, float(xi), cfg.n_probe, _statistics.probe_seed(cfg.probe_seed, seed),
                                           torch.device("cpu"))
    return tokens.numpy(), mask.numpy(), inputs.numpy()


def _member(result: _train.SweepResult, seed: int, xi: float | None) -> int:
    idx = result.select(xi=xi, seed=seed)
    if len(idx) != 1:
        raise ValueError(f"sweep {result.config.kind!r} must hold one network of seed {seed} at xi = {xi}, got {len(idx)}")
    return idx[0]


def _measure(result: _train.SweepResult, i: int, stage: str, probe) -> dict[str, np.ndarray]:
    """:func:`rgnb.mlp.measure.measure_member` without the task-relevant dimension: :data:`QUANTITIES` only."""
    out = _measure_v2.measure_member(result, i, stage, probe, task_dim=False)
    return {q: np.asarray(out[q], dtype=np.float64) for q in QUANTITIES}


def check_pair(chain: _train.SweepResult, shuffled: _train.SweepResult) -> None:
    """Refuse a chain / shuffled-chain sweep pair that cannot be paired: other shape, seeds or budget."""
    a, b = chain.config, shuffled.config
    if b.kind != _sweeps.SHUFFLED or a.kind == _sweeps.SHUFFLED:
        raise ValueError(f"the pair must be (chain sweep, shuffled sweep), got ({a.kind!r}, {b.kind!r})")
    for field in ("depths", "vocab_size", "seq_len", "width", "seeds", "steps", "architecture"):
        if getattr(a, field) != getattr(b, field):
            raise ValueError(f"the shuffled sweep's {field} {getattr(b, field)!r} must equal the chain sweep's "
                             f"{getattr(a, field)!r} (contrasts are paired by seed)")


def measure_shape(chain: _train.SweepResult, shuffled: _train.SweepResult, seeds=None) -> ShapeMeasurements:
    """Measure a shape's chain sweep and its shuffled-chain sweep, seed by seed on the seed's probes
    (``seeds``: a subset of the sweep's seeds, default all, e.g. to check stored measurements)."""
    check_pair(chain, shuffled)
    cfg = chain.config
    xis = tuple(float(x) for x in cfg.xis)
    if seeds is None:
        seeds = tuple(int(s) for s in cfg.seeds)
    else:
        seeds = tuple(int(s) for s in seeds)
        if not seeds or not set(seeds) <= set(cfg.seeds):
            raise ValueError(f"seeds must be a non-empty subset of the sweep's seeds {cfg.seeds}, got {seeds}")
    rows: dict[str, dict[str, list]] = {arm: {q: [] for q in QUANTITIES} for arm in ARMS}
    for xi in xis:
        per = {arm: {q: [] for q in QUANTITIES} for arm in ARMS}
        for s in seeds:
            probe = probe_set(chain, xi, s)
            i, j = _member(chain, s, xi), _member(shuffled, s, None)
            for arm, (result, k, stage) in zip(ARMS, ((chain, i, "init"), (chain, i, "trained"),
                                                     (shuffled, j, "trained"))):
                out = _measure(result, k, stage, probe)
                for q in QUANTITIES:
                    per[arm][q].append(out[q])
        for arm in ARMS:
            for q in QUANTITIES:
                rows[arm][q].append(np.stack(per[arm][q]))
    values = {arm: {q: np.stack(rows[arm][q]) for q in QUANTITIES} for arm in ARMS}
    return ShapeMeasurements(_sweeps.ScanShape(max(cfg.depths), cfg.vocab_size), xis, seeds, values)


def measurement_key(chain: _train.SweepResult, shuffled: _train.SweepResult) -> str:
    """Cache key of a shape's measurements: both sweeps' keys and the normalised source of the measuring code."""
    return _cache.config_key({"chain": chain.key, "shuffled": shuffled.key}, kind="p1-v3-paired",
                             source=_cache.source_hash(measure_shape, probe_set, _measure, _measure_v2.measure_member)[:16])


def measure_shape_cached(chain: _train.SweepResult, shuffled: _train.SweepResult, cache_dir=None) -> ShapeMeasurements:
    """:func:`measure_shape`, stored in ``rgnb.cache`` under :func:`measurement_key`."""
    key = measurement_key(chain, shuffled)
    entry = _cache.load(key, cache_dir)
    cfg = chain.config
    if entry is None:
        m = measure_shape(chain, shuffled)
        _cache.store(key, {f"{a}/{q}": m.values[a][q] for a in ARMS for q in QUANTITIES},
                     {"xis": list(m.xis), "seeds": list(m.seeds)}, cache_dir)
        return m
    values = {a: {q: np.asarray(entry.array(f"{a}/{q}")) for q in QUANTITIES} for a in ARMS}
    return ShapeMeasurements(_sweeps.ScanShape(max(cfg.depths), cfg.vocab_size),
                             tuple(float(x) for x in entry.meta["xis"]), tuple(int(s) for s in entry.meta["seeds"]),
                             values)


def shape_pairs(main: dict, scan: dict) -> dict[_sweeps.ScanShape, tuple[_train.SweepResult, _train.SweepResult]]:
    """The (chain, shuffled) sweep pair of every shape: the main sweeps' ``potts`` / ``shuffled`` (main
    shape) and each scan pair ``potts<suffix>`` / ``shuffled<suffix>`` present in ``scan``."""
    out = {}
    if _sweeps.PAPER_FAMILY in main and _sweeps.SHUFFLED in main:
        c = main[_sweeps.PAPER_FAMILY].config
        out[_sweeps.ScanShape(max(c.depths), c.vocab_size)] = (main[_sweeps.PAPER_FAMILY], main[_sweeps.SHUFFLED])
    for shape in _sweeps.SCAN_SHAPES:
        a, b = _sweeps.PAPER_FAMILY + shape.suffix, _sweeps.SHUFFLED + shape.suffix
        if a in scan and b in scan:
            c = scan[a].config  # keyed by the trained shape (the smoke profile halves the scan's depths)
            out[_sweeps.ScanShape(max(c.depths), c.vocab_size)] = (scan[a], scan[b])
    return out
