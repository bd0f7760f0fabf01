"""The findings' measurements: the residual streams of every network, measured on masked rows.

For every model of a profile's sweeps (``rgnb.mlp.shipped.load_profile``: family -> ``SweepResult``),
at initialisation and after training, the residual stream h^0..h^L is recomputed from the weights
on its chain's probe set and measured on **masked rows only** (the rows that carry the loss), per
position (``rgnb.metrics.masked_dimension_profile``): erank, participation ratio and PCs for 90 %
of the variance, of LN(h^l) and of h^l; the kernel-drift profile (1 - CKA between consecutive
layers); and at the last layer the task-relevant dimension (smallest rank of a linear probe within
:data:`TASK_DIM_TOL` nats of the full-rank probe). The shuffled-chain networks are also measured on
the probe sets of the chains (``_plan``), so every statistic has the same statistic on both null
controls. :func:`measure_profile` caches the result under the sweeps' keys and the normalised
source of the measuring code.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import numpy as np
import torch

from rgnb import cache as _cache
from rgnb import chains, metrics
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train
from rgnb.validate import check_choice, check_float

#: Quantities of a profile over layers, (L+1,) per model: "<dimension>_<view>".
PROFILE_QUANTITIES = tuple(f"{k}_{v}" for k in metrics.DIMENSIONS for v in metrics.VIEWS)
#: Scalars per model: task-relevant dimension at the last layer (LN(h^L), masked rows pooled over
#: positions) and its full-rank probe's held-out loss.
SCALARS = ("taskdim", "probe_loss")
#: Nominal correlation lengths of the paper's two chains.
PAPER_XIS = (1.0, 7.0)
#: Spectral relevance (ours): a mode is relevant at the task's scale s when |lambda_k|^s > e^-1.
RELEVANCE_CUT = math.exp(-1.0)
#: Task-relevant dimension: probe loss within this many nats of the full-rank probe.
TASK_DIM_TOL = 0.01
#: The chain families of the spectral-relevance regression (every xi of their grids).
RELEVANCE_FAMILIES = ("potts", "ring")


class Probe(NamedTuple):
    """The probe set a network is measured on: its own chain's (:data:`OWN`), or chain ``xi`` of sweep
    ``family`` (the shuffled-chain networks, measured on the chains' probes)."""

    family: str | None = None
    xi: float | None = None

    @property
    def name(self) -> str:
        """Its part of a cached array's name: ``own`` or ``<family>_<xi>``."""
        return "own" if self.family is None else f"{self.family}_{self.xi:g}"


#: A network's own chain's probe set.
OWN = Probe()


def on_chain(family: str, xi: float) -> Probe:
    """The probe set of chain ``xi`` of sweep ``family``."""
    return Probe(str(family), float(xi))


def task_scale(mask: Any) -> float:
    """Mean distance (positions) from a masked token to its nearest visible one, mask (N, T) bool."""
    m = torch.as_tensor(np.asarray(mask))
    return float(chains.distance_to_visible(m)[m].double().mean())


def relevant_modes(kind: str, vocab_size: int, xi: float, scale: float, cut: float = RELEVANCE_CUT) -> int:
    """Number of non-stationary modes with ``|lambda_k|^scale > cut`` (relevant at the task's scale)."""
    check_float("scale", scale, 0.0, 1e6, low_open=True)
    check_float("cut", cut, 0.0, 1.0, low_open=True, high_open=True)
    lam = np.sort(np.abs(chains.spectrum(kind, vocab_size, xi)))[::-1][1:]
    return int((lam**scale > cut).sum())


def task_dimension_of_stream(h_last: np.ndarray, tokens: np.ndarray, mask: np.ndarray, vocab_size: int,
                             tol: float = TASK_DIM_TOL) -> tuple[int, float]:
    """Task-relevant dimension of LN(h^L) (N, T, d) on masked rows pooled over positions.

    Probes are fitted on the masked rows of the first half of the probe sequences and evaluated on
    the second half; labels are the true tokens. Returns ``(rank, full-rank held-out loss)``.
    """
    h = np.asarray(h_last, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    half = h.shape[0] // 2
    X = metrics.layer_norm_rows(h)
    fit, ev = m.copy(), m.copy()
    fit[half:], ev[:half] = False, False
    return metrics.task_relevant_dimension(X[fit], tokens[fit], X[ev], tokens[ev], vocab_size, tol=tol)


def measure_member(result, i: int, stage: str, probe: tuple[np.ndarray, np.ndarray, np.ndarray],
                   task_dim: bool) -> dict[str, np.ndarray]:
    """Protocol-v2 measurements of member ``i`` of ``result`` at ``stage`` on ``probe`` (tokens, mask, inputs).

    Returns the profiles ``PROFILE_QUANTITIES`` (L+1,), ``drift`` (L,), and (if ``task_dim``) ``taskdim``
    and ``probe_loss`` (scalars as 0-d arrays; NaN when not measured).
    """
    tokens, mask, inputs = probe
    h = result.streams(i, stage, inputs=inputs)
    out = {k: np.asarray(v) for k, v in metrics.masked_dimension_profile(h, mask).items()}
    out["drift"] = metrics.masked_drift_profile(h, mask)
    if task_dim:
        r, loss = task_dimension_of_stream(h[-1], tokens, mask, result.config.vocab_size)
        out["taskdim"], out["probe_loss"] = np.asarray(float(r)), np.asarray(loss)
    else:
        out["taskdim"], out["probe_loss"] = np.asarray(math.nan), np.asarray(math.nan)
    return out


def measurement_source_hash() -> str:
    """Hash of the normalised source of the code that produces the measurements and of everything of
    ``rgnb`` it calls (``rgnb.cache.source_hash``): the cache key's code part."""
    return _cache.source_hash(measure_profile, measure_member, task_scale, task_dimension_of_stream, _plan,
                              _probe_task_dim)[:16]


def _plan(results) -> list[tuple[str, str, Probe]]:
    """(family, stage, probe) triples to measure: own probe for every family; the shuffled-chain
    networks also on the probe sets of the chain families (:func:`on_chain`): at both stages on
    the paper family's two chains (findings (i)-(iii)), trained only on the rest of both families'
    grids (the spectral-relevance null; initialised, they are the chain networks of the same seed)."""
    plan = [(f, s, OWN) for f in results for s in _train.STAGES]
    if _sweeps.SHUFFLED in results and _sweeps.PAPER_FAMILY in results:
        paper = [on_chain(_sweeps.PAPER_FAMILY, xi) for xi in paper_xis(results[_sweeps.PAPER_FAMILY].config.xis)]
        plan += [(_sweeps.SHUFFLED, s, probe) for probe in paper for s in _train.STAGES]
        # trained only: at initialisation a shuffled network is the chain network of the same seed (same weights)
        plan += [(_sweeps.SHUFFLED, "trained", on_chain(fam, xi)) for fam in RELEVANCE_FAMILIES if fam in results
                 for xi in results[fam].config.xis if on_chain(fam, xi) not in paper]
    return plan


def _probe_task_dim(family: str, stage: str, probe: Probe) -> bool:
    """Whether the task-relevant dimension is measured for (family, stage, probe): the chain families on
    their own probes, and the trained shuffled-chain networks on the chains' probes (the
    spectral-relevance null)."""
    return (family in chains.KINDS and probe == OWN) or (family == _sweeps.SHUFFLED and stage == "trained"
                                                          and probe != OWN)


def paper_xis(xis) -> tuple[float, float]:
    """The grid's correlation lengths nearest the paper's xi ~ 1 and xi ~ 7."""
    a = np.asarray(xis, dtype=float)
    return tuple(float(a[np.argmin(abs(a - x))]) for x in PAPER_XIS)


@dataclasses.dataclass
class Measurements:
    """Protocol-v2 measurements of a profile: ``values[(family, stage, probe)][quantity]`` is an array
    with one row per member of the family (members in storage order)."""

    results: dict
    values: dict[tuple[str, str, Probe], dict[str, np.ndarray]]
    scale: float  # task scale s of the paper family's probe sets

    def members(self, family: str) -> list[dict[str, Any]]:
        return self.results[family].members

    def index(self, family: str, xi: float | None = None, depth: int | None = None) -> list[int]:
        """Member indices of (family, xi, depth), ordered by seed."""
        r = self.results[check_choice("family", family, tuple(self.results))]
        depth = max(r.config.depths) if depth is None else depth
        idx = r.select(xi=xi, depth=depth)
        if not idx:
            raise ValueError(f"(xi, depth) must be in the sweep {family}, got ({xi}, {depth})")
        return sorted(idx, key=lambda i: r.members[i]["seed"])

    def get(self, family: str, quantity: str, stage: str = "trained", xi: float | None = None,
            probe: Probe = OWN, depth: int | None = None) -> np.ndarray:
        """Per-seed values, (n_seeds, ...) ordered by seed; the shuffled family's probe may be a chain's
        (:func:`on_chain`)."""
        check_choice("stage", stage, _train.STAGES)
        if not isinstance(probe, Probe):
            raise ValueError(f"probe must be an rgnb.mlp.measure.Probe (OWN or on_chain(family, xi)), got {probe!r}")
        key = (family, stage, probe)
        if key not in self.values:
            raise ValueError(f"(family, stage, probe) must be measured, got {key}; measured: {sorted(self.values)}")
        vals = self.values[key][check_choice("quantity", quantity, tuple(self.values[key]))]
        return vals[self.index(family, None if family == _sweeps.SHUFFLED else xi, depth)]

    def seeds_of(self, family: str, xi: float | None = None) -> list[int]:
        r = self.results[family]
        return [r.members[i]["seed"] for i in self.index(family, None if family == _sweeps.SHUFFLED else xi)]


def measure_key(results) -> str:
    """Cache key of a profile's measurements: every sweep's key and the measuring code's source."""
    return _cache.config_key({f: r.key for f, r in sorted(results.items())}, kind="findings-measurements-v2",
                             source=measurement_source_hash())


def measure_profile(results: dict, cache: bool = True, cache_dir=None, progress: bool = False) -> Measurements:
    """Measure every model of a profile (both stages; the shuffled ones also on the chains' probes, :func:`_plan`).

    Stored in ``rgnb.cache`` under :func:`measure_key`, so the three findings chapters measure once.
    The task-relevant dimension is measured for the potts and ring families and for the shuffled-chain
    networks on their probe sets (the spectral-relevance regressions and their null).
    """
    from tqdm import tqdm

    key = measure_key(results) if cache else None
    entry = _cache.load(key, cache_dir) if key else None
    plan = _plan(results)
    quantities = PROFILE_QUANTITIES + ("drift",) + SCALARS
    if entry is not None:
        values = {p: {q: entry.array(f"{p[0]}/{p[1]}/{p[2].name}/{q}") for q in quantities}
                  for p in plan}
        return Measurements(results, values, float(entry.meta["scale"]))
    paper = results.get(_sweeps.PAPER_FAMILY)
    values = {}
    for family, stage, probe in tqdm(plan, desc="measure", disable=not progress):
        r = results[family]
        rows = {q: [] for q in quantities}
        for i, m in enumerate(r.members):
            pset = r.probe_set(m["xi"]) if probe == OWN else results[probe.family].probe_set(probe.xi)
            task = _probe_task_dim(family, stage, probe)
            out = measure_member(r, i, stage, pset, task_dim=task)
            for q in quantities:
                rows[q].append(out[q])
        values[(family, stage, probe)] = {q: np.stack(v) for q, v in rows.items()}
    ref = paper if paper is not None else next(iter(results.values()))
    scale = task_scale(np.concatenate([ref.probe_mask(xi) for xi in ref.config.xis]))
    if key:
        arrays = {f"{p[0]}/{p[1]}/{p[2].name}/{q}": values[p][q] for p in plan for q in quantities}
        _cache.store(key, arrays, {"scale": scale, "source": measurement_source_hash()}, cache_dir)
    return Measurements(results, values, scale)
