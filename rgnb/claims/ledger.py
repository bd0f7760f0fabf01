"""Evaluated rows and the claims ledger: one row per claim, decided by its primary configuration.

:func:`evaluate` turns a registered spec and its evidence (the primary configuration, and the
others as sub-rows: "holds in k of m", outside the tally) into a :class:`Row`: the verdict and its
reason, one p-value, the effects with their CIs, the verdict as a function of the margin and the
critical margin, the spec hash and the post hoc status derived from the history. :func:`record`
writes a chapter's rows to ``<run dir>/<chapter>.claims.json`` (schema 3; numbers rounded, so the
ledger is byte-identical on any machine); :func:`load_ledger` reads a run directory; the paper
claims form one Holm family over the whole ledger (:func:`holm_decisions`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Iterable, Sequence

from rgnb import stats
from rgnb.claims import registry as _registry
from rgnb.claims.rule import ALPHA, critical_margin, decide, margin_segments
from rgnb.claims.spec import PAPERS, REPRODUCED, SANITY, VERDICTS, ClaimSpec, Evidence
from rgnb.effects import Effect
from rgnb.layout import chapters
from rgnb.stats import Interval, format_number
from rgnb.validate import check_choice, check_interval, find_nan

SCHEMA = 3
PROFILES = ("smoke", "reference", "full")


def _r(x: float | None, digits: int, floor: float | None = None) -> float | None:
    """``x`` to ``digits`` significant digits; with a ``floor``, any ``|x| < floor`` is stored as ``floor``
    (round-off-level numbers differ between CPUs, their bound does not: the text shows ``< floor``)."""
    if x is None:
        return None
    if floor is not None and math.isfinite(x) and abs(x) < floor:
        return float(floor)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x


def _effect_record(e: Effect, digits: int, floor: float | None) -> dict:
    iv = e.interval()
    return {"estimate": _r(iv.estimate, digits, floor), "low": _r(iv.low, digits, floor),
            "high": _r(iv.high, digits, floor), "method": e.kind, "n": e.n, "scale": e.scale,
            "text": Interval(iv.estimate, iv.low, iv.high, 0.95, "" if e.kind != "exact" else "exact").format(
                digits, floor)}


def _interval_record(iv: Interval | None, digits: int, floor: float | None) -> dict | None:
    if iv is None:
        return None
    return {"estimate": _r(iv.estimate, digits, floor), "low": _r(iv.low, digits, floor),
            "high": _r(iv.high, digits, floor), "method": iv.method, "n": iv.n, "text": iv.format(digits, floor)}


@dataclasses.dataclass(frozen=True)
class Row:
    """One evaluated claim as stored in the ledger (rounded, JSON-ready)."""

    id: str
    chapter: str
    source: str
    claim: str
    statistic: str
    kind: str
    direction: str
    margin: float
    margin_reason: str
    test: str
    premise: str
    premise_met: bool
    premise_detail: str
    configuration: str
    measured: dict | None
    effects: dict
    positive_control: dict
    placebo: dict
    verdict: str
    reason: str
    p_value: float | None
    critical_margin: float | None
    margin_segments: list
    subrows: list
    holds: str
    n: int
    n_unit: str
    profile: str
    figure: str
    post_hoc: bool
    post_hoc_reason: str
    spec_hash: str
    note: str

    @property
    def is_paper_claim(self) -> bool:
        """A paper's claim tested as registered (not post hoc): one of the Holm family."""
        return self.source in PAPERS and not self.post_hoc

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _segments_record(segs: list[tuple[float, float, str]], digits: int, floor: float | None = None) -> list:
    return [[_r(a, digits, floor), _r(b, digits, floor), v] for a, b, v in segs]


def check_evidence_intervals(ev: Evidence) -> None:
    """Refuse evidence holding a malformed interval (NaN, low > high): its statistic and every effect's."""
    where = f"evidence {ev.configuration!r}"
    if ev.statistic is not None:
        if not isinstance(ev.statistic, Interval):
            raise ValueError(f"{where}: statistic must be an rgnb.stats.Interval, got {type(ev.statistic).__name__}")
        check_interval(f"{where}: statistic", *ev.statistic[:3])
    for field in ("contrasts", "positive_control", "placebo"):
        for name, e in getattr(ev, field).items():
            iv = e.interval()
            check_interval(f"{where}: {field}[{name!r}]", iv.estimate, iv.low, iv.high)


def evaluate(spec: ClaimSpec, primary: Evidence, *, others: Sequence[Evidence] = (), profile: str,
             note: str = "", digits: int = 3, floor: float | None = None,
             events: list[dict] | None = None) -> Row:
    """Evaluate a registered claim on its primary configuration's evidence; ``others`` become sub-rows.

    ``events``: the claims history (default: ``results/claims_history.json``), from which post hoc
    status is derived. ``floor``: values below it in absolute value print as ``< floor``.
    """
    if not isinstance(spec, ClaimSpec):
        raise ValueError(f"spec must be a ClaimSpec, got {type(spec).__name__}")
    if not isinstance(primary, Evidence):
        raise ValueError(f"primary must be an rgnb.claims.Evidence, got {type(primary).__name__}")
    check_choice("profile", profile, PROFILES)
    for ev in (primary, *others):
        if not isinstance(ev, Evidence):
            raise ValueError(f"others must hold rgnb.claims.Evidence, got {type(ev).__name__}")
        check_evidence_intervals(ev)
        for e in ev.contrasts.values():
            if ev.premise_met and e.kind != spec.interval:
                raise ValueError(f"claim {spec.id!r} registers interval {spec.interval!r} but the evidence for "
                                 f"{ev.configuration!r} holds a {e.kind!r} effect")
    d = decide(spec, primary)
    segs = margin_segments(spec, primary)
    subrows, held = [], 0
    for ev in others:
        sub = decide(spec, ev)
        held += sub.verdict == REPRODUCED
        subrows.append({"configuration": ev.configuration, "verdict": sub.verdict, "reason": sub.reason,
                        "p_value": _r(sub.p_value, 2), "premise_met": ev.premise_met,
                        "effects": {k: _effect_record(e, digits, floor)["text"] for k, e in ev.contrasts.items()},
                        "note": ev.note})
    events = _registry.load_history() if events is None else events
    hoc, why = _registry.post_hoc(spec, events)
    return Row(id=spec.id, chapter=spec.chapter, source=spec.source, claim=spec.claim, statistic=spec.statistic,
               kind=spec.kind, direction=spec.direction, margin=spec.margin, margin_reason=spec.margin_reason,
               test=spec.test_text(), premise=spec.premise, premise_met=bool(primary.premise_met),
               premise_detail=primary.premise_detail, configuration=primary.configuration,
               measured=_interval_record(primary.statistic, digits, floor),
               effects={k: _effect_record(e, digits, floor) for k, e in primary.contrasts.items()},
               positive_control={k: _effect_record(e, digits, floor) for k, e in primary.positive_control.items()},
               placebo={k: _effect_record(e, digits, floor) for k, e in primary.placebo.items()},
               verdict=d.verdict, reason=d.reason, p_value=_r(d.p_value, 2),
               critical_margin=_r(critical_margin(spec, segs), digits, floor),
               margin_segments=_segments_record(segs, digits, floor),
               subrows=subrows, holds=f"{held} of {len(subrows)}" if subrows else "",
               n=int(primary.n), n_unit=primary.n_unit, profile=profile, figure=spec.figure, post_hoc=hoc,
               post_hoc_reason=why, spec_hash=spec.spec_hash(), note=note or primary.note)


def record(run, rows: Iterable[Row], directory: str | Path | None = None, specs: Sequence[ClaimSpec] = (),
           events: list[dict] | None = None):
    """Write a chapter's rows to the ledger (deterministic JSON) and return the displayable table.

    ``run``: the chapter's :class:`rgnb.provenance.ChapterRun`. Rows must belong to its chapter and
    profile, with unique ids. ``specs``: the rows' registered specs; each must carry the hash
    registered in the history (a spec changed without registering is refused).
    """
    from rgnb.claims.tables import ClaimsTable
    from rgnb.provenance import run_dir

    rows = list(rows)
    ids = [r.id for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique within a chapter, got {ids}")
    for r in rows:
        if not isinstance(r, Row):
            raise ValueError(f"rows must be claims.Row (from claims.evaluate), got {type(r).__name__}")
        if r.chapter != run.chapter or r.profile != run.profile:
            raise ValueError(f"row {r.id!r} belongs to chapter {r.chapter!r} at profile {r.profile!r}, "
                             f"not to this run ({run.chapter!r}, {run.profile!r})")
    events = _registry.load_history() if events is None else events
    for spec in specs:
        _registry.check_registered(spec, events)
    base = Path(directory) if directory is not None else run_dir(getattr(run, "settings", None))
    base.mkdir(parents=True, exist_ok=True)
    payload = {"schema": SCHEMA, "chapter": run.chapter, "profile": run.profile, "rows": [r.to_json() for r in rows]}
    nan = find_nan(payload)
    if nan:  # NaN is not JSON; an infinite interval end (too few seeds) is written as Infinity
        raise ValueError(f"the claims ledger of {run.chapter!r} would hold a NaN at {nan}; refusing to write it")
    path = base / f"{run.chapter}.claims.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return ClaimsTable(run.chapter, run.profile, rows)


def load_ledger(directory: str | Path | None = None) -> list[Row]:
    """Every recorded row of a run directory, chapters in book order (schema-3 files only).

    A directory that does not exist raises ``FileNotFoundError`` naming it (an empty one gives no rows).
    """
    from rgnb.provenance import run_dir

    base = Path(directory) if directory is not None else run_dir()
    if not base.is_dir():
        raise FileNotFoundError(f"no run directory at {base} (expected <chapter>.claims.json files there)")
    found = {p.name.removesuffix(".claims.json"): p for p in base.glob("*.claims.json")}
    book = chapters()
    order = [c for c in book if c in found] + sorted(set(found) - set(book))
    rows: list[Row] = []
    for chapter in order:
        data = json.loads(found[chapter].read_text())
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"{found[chapter]} is not a schema-{SCHEMA} claims file; re-execute chapter {chapter!r}")
        rows += [Row(**r) for r in data["rows"]]
    return rows


def kind_of(row: Row) -> str:
    """``paper`` (P1-P3 as registered), ``ours`` (the book's own claims, post hoc rows included) or ``sanity check``."""
    if row.source == SANITY:
        return "sanity check"
    return "paper" if row.is_paper_claim else "ours"


def holm_family(rows: Iterable[Row]) -> list[Row]:
    """The Holm family: every paper-claim row (one per claim; a row without a p-value counts as p = 1)."""
    return [r for r in rows if r.is_paper_claim]


def holm_adjusted(rows: Iterable[Row]) -> dict[str, float]:
    """Holm-adjusted p-value per paper-claim row id, over the whole family."""
    family = holm_family(rows)
    if not family:
        return {}
    p = [1.0 if r.p_value is None else r.p_value for r in family]
    return dict(zip([r.id for r in family], (float(x) for x in stats.holm(p))))


def holm_decisions(rows: Iterable[Row], alpha: float = ALPHA) -> dict[str, str]:
    """The verdict after Holm per paper-claim row: a raw ``reproduced`` stands when its adjusted p < ``alpha``,
    otherwise it becomes ``inconclusive``; other verdicts are unchanged."""
    rows = list(rows)
    adj = holm_adjusted(rows)
    out = {}
    for r in holm_family(rows):
        out[r.id] = (r.verdict if r.verdict != REPRODUCED or adj[r.id] < alpha else "inconclusive")
    return out


def tally(rows: Iterable[Row], holm: dict[str, str] | None = None) -> dict[str, int]:
    """Number of rows per verdict (after Holm where ``holm`` gives one)."""
    counts = {v: 0 for v in VERDICTS}
    for r in rows:
        counts[(holm or {}).get(r.id, r.verdict)] += 1
    return counts


def ledger_json(rows: Iterable[Row]) -> str:
    """The rows as deterministic JSON with the Holm-adjusted p and verdict (for diffing two runs)."""
    rows = list(rows)
    adj, dec = holm_adjusted(rows), holm_decisions(rows)
    return json.dumps([{**r.to_json(), "holm_p": None if r.id not in adj else _r(adj[r.id], 2),
                        "holm_verdict": dec.get(r.id)} for r in rows], indent=1, sort_keys=True)


def ledger_text(rows: Iterable[Row]) -> str:
    """The rows as a plain-text table (for ``python -m rgnb claims``)."""
    rows = list(rows)
    adj, dec = holm_adjusted(rows), holm_decisions(rows)
    out = []
    for r in rows:
        eff = "; ".join(f"{k}: {v['text']}" for k, v in r.effects.items())
        extra = f"  [Holm p {format_number(adj[r.id], 2, 1e-4)}: {dec[r.id]}]" if r.id in adj else ""
        hoc = " (post hoc)" if r.post_hoc else ""
        out.append(f"{r.chapter:14s} {r.source:12s} {r.id:30s} {r.verdict}{hoc}{extra}\n{'':14s} {eff}")
    return "\n".join(out)
