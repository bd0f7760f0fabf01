"""The tuning history of the training budgets, as data: ``results/tuning.json`` read into typed records.

The runs that fixed the reference profile's step counts (:data:`rgnb.mlp.sweeps.REFERENCE_STEPS`,
:data:`rgnb.mlp.sweeps.NO_LAYERNORM_STEPS`) were judged on the convergence gate only
(``rgnb.mlp.gate``), never on a finding. Their numbers live in the data file, not in code comments;
this module reads and checks it (:func:`load_tuning`) and gives the tables the chapters show.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from rgnb.layout import REPO_ROOT

#: The tuning history of the shipped budgets.
TUNING_FILE = REPO_ROOT / "results" / "tuning.json"
#: Version of the file's layout this module reads.
SCHEMA = 1


@dataclasses.dataclass(frozen=True)
class GateCell:
    """One chain's outcome of a tuning run: worst held-out excess loss (nats), smallest recovered share
    of the context's information, and the models passing the gate (``"k/n"``)."""

    xi: float
    worst_excess_nats: float
    smallest_share: float
    passing: str


@dataclasses.dataclass(frozen=True)
class MainRun:
    """A tuning run of the main reading (mixer with LayerNorm): one budget, one chain family, one cell per xi."""

    budget: str
    chain: str
    cells: tuple[GateCell, ...]


@dataclasses.dataclass(frozen=True)
class SeedRun:
    """A tuning run of the robustness reading (no LayerNorm): one budget, the held-out excess (nats) per seed."""

    budget: str
    excess_nats_by_seed: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class FailedNetwork:
    """A network above the gate in a run: its chain ``xi``, ``seed`` and held-out excess loss (nats)."""

    xi: float
    seed: int
    excess_nats: float


@dataclasses.dataclass(frozen=True)
class FirstRun:
    """The first reference run of the robustness reading: its steps, who passed the gate, who failed."""

    steps: int
    passed: str
    failed: tuple[FailedNetwork, ...]


@dataclasses.dataclass(frozen=True)
class TuningHistory:
    """The whole file: the main reading's runs and chosen steps, the robustness reading's runs, first run and
    chosen steps, and why (``*_decision``, plain text as recorded)."""

    main_steps: int
    main_runs: tuple[MainRun, ...]
    main_decision: str
    no_layernorm_steps: int
    no_layernorm_runs: tuple[SeedRun, ...]
    no_layernorm_first_run: FirstRun
    no_layernorm_decision: str

    def main_table(self) -> tuple[tuple[str, str, dict[float, tuple[float, float, str]]], ...]:
        """The main reading's runs as ``(budget, chain, {xi: (worst excess, smallest share, passing)})``."""
        return tuple((r.budget, r.chain, {c.xi: (c.worst_excess_nats, c.smallest_share, c.passing) for c in r.cells})
                     for r in self.main_runs)

    def no_layernorm_table(self) -> tuple[tuple[str, tuple[float, ...]], ...]:
        """The robustness reading's runs as ``(budget, (excess of seed 0, excess of seed 1, ...))``."""
        return tuple((r.budget, r.excess_nats_by_seed) for r in self.no_layernorm_runs)

    def first_run_record(self) -> dict:
        """The robustness reading's first run as ``{"steps", "passed", "failed": ((xi, seed, excess), ...)}``."""
        run = self.no_layernorm_first_run
        return {"steps": run.steps, "passed": run.passed,
                "failed": tuple((f.xi, f.seed, f.excess_nats) for f in run.failed)}


def _field(record: dict, name: str, kind: type | tuple[type, ...], where: str):
    value = record.get(name) if isinstance(record, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{where}: {name!r} must be {kind}, got {value!r}")
    return value


def _main_run(r: dict, where: str) -> MainRun:
    cells = tuple(GateCell(float(_field(c, "xi", (int, float), where)),
                           float(_field(c, "worst_excess_nats", (int, float), where)),
                           float(_field(c, "smallest_share", (int, float), where)),
                           _field(c, "passing", str, where)) for c in _field(r, "cells", list, where))
    return MainRun(_field(r, "budget", str, where), _field(r, "chain", str, where), cells)


def _seed_run(r: dict, where: str) -> SeedRun:
    values = _field(r, "excess_nats_by_seed", list, where)
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{where}: 'excess_nats_by_seed' must be a non-empty list of numbers, got {values!r}")
    return SeedRun(_field(r, "budget", str, where), tuple(float(v) for v in values))


def parse_tuning(data: dict) -> TuningHistory:
    """A :class:`TuningHistory` from the file's JSON object; raises ``ValueError`` on a wrong schema or field."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"the tuning history must be a JSON object with schema {SCHEMA}, got "
                         f"{data.get('schema') if isinstance(data, dict) else type(data).__name__!r}")
    main = _field(data, "main", dict, "tuning")
    robust = _field(data, "no_layernorm", dict, "tuning")
    first = _field(robust, "first_run", dict, "no_layernorm")
    failed = tuple(FailedNetwork(float(_field(f, "xi", (int, float), "first_run")), _field(f, "seed", int, "first_run"),
                                 float(_field(f, "excess_nats", (int, float), "first_run")))
                   for f in _field(first, "failed", list, "first_run"))
    return TuningHistory(
        main_steps=_field(main, "chosen_steps", int, "main"),
        main_runs=tuple(_main_run(r, "main run") for r in _field(main, "runs", list, "main")),
        main_decision=_field(main, "decision", str, "main"),
        no_layernorm_steps=_field(robust, "chosen_steps", int, "no_layernorm"),
        no_layernorm_runs=tuple(_seed_run(r, "no_layernorm run") for r in _field(robust, "runs", list, "no_layernorm")),
        no_layernorm_first_run=FirstRun(_field(first, "steps", int, "first_run"),
                                        _field(first, "passed", str, "first_run"), failed),
        no_layernorm_decision=_field(robust, "decision", str, "no_layernorm"))


def load_tuning(path: str | Path = TUNING_FILE) -> TuningHistory:
    """The tuning history stored at ``path`` (default ``results/tuning.json``)."""
    return parse_tuning(json.loads(Path(path).read_text()))
