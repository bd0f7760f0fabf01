"""Did a run reproduce the stored book? Claims ledgers compared row by row, and byte for byte.

- :func:`compare_runs` (a reader's ``make book``): for each chapter, every row of the run's
  ``<chapter>.claims.json`` against the stored one: identical, or the fields that differ with both
  values; rows only one side has are listed. :func:`report_markdown` prints it.
- :func:`ledger_mismatches` (CI, ``book/conftest.py``): the chapters whose ledger computed in a
  session is not byte-identical to the committed one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable

@dataclasses.dataclass(frozen=True)
class RowDiff:
    """One ledger row of one chapter: identical, or its differing fields as ``(field, stored, this run)``."""

    chapter: str
    id: str
    status: str  # "identical", "differs", "only stored", "only this run"
    fields: tuple[tuple[str, Any, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """The comparison of a run with the stored ledger."""

    stored_dir: Path
    run_dir: Path
    rows: tuple[RowDiff, ...]
    missing: tuple[str, ...] = ()  # chapters this run computed that the stored book has no ledger for

    @property
    def identical(self) -> list[RowDiff]:
        return [r for r in self.rows if r.status == "identical"]

    @property
    def different(self) -> list[RowDiff]:
        return [r for r in self.rows if r.status != "identical"]

    @property
    def reproduced(self) -> bool:
        return bool(self.rows) and not self.different and not self.missing


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"effects.null.low": 0.1, ...}``: a JSON value as leaf paths (lists by index)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k in sorted(value):
            out.update(_flatten(value[k], f"{prefix}.{k}" if prefix else str(k)))
        return out if out or not prefix else {prefix: {}}
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out if out or not prefix else {prefix: []}
    return {prefix: value}


def compare_rows(chapter: str, stored: list[dict], new: list[dict]) -> list[RowDiff]:
    """Row-by-row comparison of one chapter's stored and new ledger rows (matched by ``id``)."""
    old_by_id, new_by_id = {r["id"]: r for r in stored}, {r["id"]: r for r in new}
    out = []
    for rid in list(old_by_id) + [i for i in new_by_id if i not in old_by_id]:
        if rid not in new_by_id:
            out.append(RowDiff(chapter, rid, "only stored"))
            continue
        if rid not in old_by_id:
            out.append(RowDiff(chapter, rid, "only this run"))
            continue
        a, b = _flatten(old_by_id[rid]), _flatten(new_by_id[rid])
        fields = tuple((k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
                       if a.get(k) != b.get(k))
        out.append(RowDiff(chapter, rid, "differs" if fields else "identical", fields))
    return out


def _rows(path: Path) -> list[dict]:
    return json.loads(path.read_text())["rows"]


def compare_runs(stored_dir: Path, run_dir: Path, chapters: Iterable[str]) -> Reproduction:
    """Compare the ledgers of ``chapters`` in ``run_dir`` (this run) with those in ``stored_dir``."""
    stored_dir, run_dir = Path(stored_dir), Path(run_dir)
    rows: list[RowDiff] = []
    missing = []
    for chapter in chapters:
        new, old = run_dir / f"{chapter}.claims.json", stored_dir / f"{chapter}.claims.json"
        if not new.is_file():
            continue  # a chapter without claims (intro, appendix)
        if not old.is_file():
            missing.append(chapter)
            continue
        rows += compare_rows(chapter, _rows(old), _rows(new))
    return Reproduction(stored_dir, run_dir, tuple(rows), tuple(missing))


def _value(x: Any) -> str:
    text = json.dumps(x, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def report_markdown(rep: Reproduction) -> str:
    """The reproduction report: a verdict line, then every differing row with both values."""
    n, same = len(rep.rows), len(rep.identical)
    head = (f"Reproduction report: this run ({rep.run_dir}) against the stored ledger ({rep.stored_dir}): "
            f"{same} of {n} rows identical, {n - same} differ.")
    lines = [head, ""]
    if rep.reproduced:
        lines.append("Every row reproduced: identical to the stored ledger.")
    for chapter in rep.missing:
        lines.append(f"- {chapter}: the stored book has no ledger for it (nothing to compare)")
    for r in rep.different:
        if r.status != "differs":
            lines.append(f"- {r.chapter} / {r.id}: {r.status}")
            continue
        lines.append(f"- {r.chapter} / {r.id}: differs in {len(r.fields)} field(s)")
        lines += [f"    {field}: stored {_value(a)}, this run {_value(b)}" for field, a, b in r.fields]
    return "\n".join(lines) + "\n"


def ledger_mismatches(stored_dir: Path, run_dir: Path, chapters: Iterable[str] | None = None) -> list[str]:
    """Chapters whose ``<chapter>.claims.json`` in ``run_dir`` is not byte-identical to the one in ``stored_dir``
    (every ledger in ``run_dir`` when ``chapters`` is None), each with a one-line reason."""
    stored_dir, run_dir = Path(stored_dir), Path(run_dir)
    names = (sorted(p.name.removesuffix(".claims.json") for p in run_dir.glob("*.claims.json"))
             if chapters is None else list(chapters))
    out = []
    for chapter in names:
        new, old = run_dir / f"{chapter}.claims.json", stored_dir / f"{chapter}.claims.json"
        if not new.is_file():
            continue
        if not old.is_file():
            out.append(f"{chapter}: computed a ledger but {old} is not committed")
        elif old.read_bytes() != new.read_bytes():
            diff = compare_rows(chapter, _rows(old), _rows(new)) if _parses(old) and _parses(new) else []
            first = next((d for d in diff if d.status != "identical"), None)
            where = (f" (first: row {first.id}, {first.fields[0][0]}: committed {_value(first.fields[0][1])}, "
                     f"computed {_value(first.fields[0][2])})" if first and first.fields else
                     f" (row {first.id}: {first.status})" if first else "")
            out.append(f"{chapter}: the computed ledger differs from the committed {old}{where}")
    return out


def _parses(path: Path) -> bool:
    try:
        _rows(path)
        return True
    except (ValueError, KeyError, TypeError):
        return False


__all__ = ["Reproduction", "RowDiff", "compare_rows", "compare_runs", "ledger_mismatches", "report_markdown"]
