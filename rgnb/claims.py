"""Declared claims, computed verdicts, and the claims ledger (``shared/spec/verdicts.md``).

A claim is declared once, in ``rgnb`` next to the science it tests, as a :class:`ClaimSpec`: its
statement and source (a paper, ``ours`` or a ``sanity check``), the statistic, the pre-stated
threshold and direction, the premise, the null control and the interval method. A chapter only
*evaluates* it (:func:`evaluate`) and *records* the rows (:func:`record`). The verdict is
computed, never typed:

============== =================================================================================
verdict         condition
============== =================================================================================
premise not met the claim's premise failed: no verdict on the claim is drawn
reproduced      premise met; the whole CI is on the claim's side, and the same test fails on every
                null control (each null's whole CI on the other side)
vacuous test    premise met; the whole CI is on the claim's side, and the test also passes on a
                null control: it cannot discriminate
inconclusive    premise met; the CI straddles the threshold, or it passes while a null's CI
                straddles it
not reproduced  premise met; the whole CI is on the other side
============== =================================================================================

Sanity checks (the book's own checks of its machinery) need no null control. Every chapter's
rows go to ``<run dir>/<chapter>.claims.json`` (schema 2), the **ledger**; the intro page, the
appendix and ``python -m rgnb claims`` read it. Numbers are stored rounded (``digits``
significant digits, round-off-level values as bounds) so the ledger is byte-identical on any
machine. Paper-claim rows form one family over the whole ledger: :func:`holm_decisions` adds the
Holm-adjusted decision beside the raw one.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from rgnb import stats
from rgnb.provenance import run_dir
from rgnb.stats import Interval, format_number
from rgnb.validate import check_choice, check_float, check_int

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
PREMISE_NOT_MET = "premise not met"
VACUOUS = "vacuous test"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, PREMISE_NOT_MET, VACUOUS)

PAPERS = ("P1", "P2", "P3")
SANITY = "sanity check"
SOURCES = PAPERS + ("ours", SANITY)
#: Interval methods a claims row may name (``rgnb.stats``).
CI_METHODS = ("student-t", "bca", "normal-se", "exact", "percentile")
SCHEMA = 2
#: One-sided level matching a two-sided 95 % interval, for the Holm decisions.
ALPHA_ONE_SIDED = 0.025

PROFILE_NOTES = {
    "smoke": ("Profile `smoke`: small networks trained for seconds on a CPU, for CI and quick looks. "
              "These rows check that the pipeline runs end to end; they are **not a test of the papers** "
              "(rows whose premise, such as the convergence gate, fails say so)."),
    "reference": ("Profile `reference`: the stored book. Networks trained to the exact Bayes floor (the "
                  "convergence gate is each trained-network row's premise), >= 10 seeds, sized for a CPU. A "
                  "verdict here is the book's answer at this scale, not at the papers' scale (profile `full`)."),
    "full": ("Profile `full`: the papers' scale, executed on a GPU. A verdict here is the closest this book "
             "comes to the papers' own setting."),
}


@dataclasses.dataclass(frozen=True)
class ClaimSpec:
    """A claim declared before any run: what is tested, how, against which null control.

    ``threshold`` and ``passes`` (``"below"`` / ``"above"``) state the test: the whole 95 % CI of
    ``statistic`` must lie on the ``passes`` side of ``threshold``. ``figure`` is the MyST label of
    the figure that shows the evidence (``""`` where a table is the evidence).
    """

    id: str
    chapter: str
    source: str
    claim: str
    statistic: str
    threshold: float
    passes: str
    premise: str
    null_control: str
    ci_method: str
    figure: str = ""
    post_hoc: bool = False

    def __post_init__(self) -> None:
        for name in ("id", "chapter", "claim", "statistic", "premise"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"{name} must be a non-empty string, got {getattr(self, name)!r}")
        check_choice("source", self.source, SOURCES)
        check_choice("passes", self.passes, ("below", "above"))
        check_choice("ci_method", self.ci_method, CI_METHODS)
        object.__setattr__(self, "threshold", check_float("threshold", self.threshold))
        if self.source != SANITY and not self.null_control.strip():
            raise ValueError(f"claim {self.id!r}: null_control must name the null control; only a claim declared "
                             f"with source {SANITY!r} may have none")

    def test_text(self) -> str:
        """The pre-stated test in words, e.g. ``whole 95 % CI < -0.8``."""
        return f"whole 95 % CI {'<' if self.passes == 'below' else '>'} {self.threshold:g}"


@dataclasses.dataclass(frozen=True)
class Row:
    """One evaluated claims row, as stored in the ledger (rounded, JSON-ready)."""

    id: str
    chapter: str
    source: str
    claim: str
    statistic: str
    test: str
    threshold: float
    passes: str
    premise: str
    premise_met: bool
    premise_detail: str
    measured: dict
    null_control: str
    null: dict
    ci_method: str
    n: int
    n_unit: str
    profile: str
    verdict: str
    p_value: float | None
    figure: str
    post_hoc: bool
    note: str

    @property
    def is_paper_claim(self) -> bool:
        """A paper's claim tested as stated (not post hoc): one of the Holm family."""
        return self.source in PAPERS and not self.post_hoc

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _rounded(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x


def _interval_record(iv: Interval, digits: int, floor: float | None) -> dict:
    return {"estimate": _rounded(iv.estimate, digits), "low": _rounded(iv.low, digits),
            "high": _rounded(iv.high, digits), "method": iv.method, "n": iv.n, "text": iv.format(digits, floor)}


def verdict_of(spec: ClaimSpec, measured: Interval, nulls: Mapping[str, Interval], premise_met: bool) -> str:
    """The verdict rule of the module docstring, from intervals (unrounded)."""
    if not premise_met:
        return PREMISE_NOT_MET
    side = measured.side(spec.threshold, spec.passes)
    if side == "fail":
        return NOT_REPRODUCED
    if side == "straddle":
        return INCONCLUSIVE
    null_sides = [iv.side(spec.threshold, spec.passes) for iv in nulls.values()]
    if any(s == "pass" for s in null_sides):
        return VACUOUS
    if any(s == "straddle" for s in null_sides):
        return INCONCLUSIVE
    return REPRODUCED


def evaluate(spec: ClaimSpec, measured: Interval, *, null: Interval | Mapping[str, Interval] | None = None,
             premise_met: bool = True, premise_detail: str = "", profile: str, n: int | None = None,
             n_unit: str = "seeds", p_value: float | None = None, note: str = "", digits: int = 3,
             floor: float | None = None) -> Row:
    """Evaluate a declared claim on a measured interval and its null control(s); returns a :class:`Row`.

    ``null``: the same statistic on the null control (one interval, or ``{name: interval}``);
    required for every claim but sanity checks whose premise held. ``n``: seeds or samples behind
    the interval (default: ``measured.n``). ``p_value``: one-sided p of the claim's side (default:
    recovered from a ``student-t`` or ``normal-se`` interval). ``floor``: values smaller in absolute
    value are stored as the bound ``< floor`` (round-off level).
    """
    if not isinstance(spec, ClaimSpec):
        raise ValueError(f"spec must be a ClaimSpec, got {type(spec).__name__}")
    if not isinstance(measured, Interval):
        raise ValueError(f"measured must be an rgnb.stats.Interval, got {type(measured).__name__}")
    if measured.method != spec.ci_method:
        raise ValueError(f"claim {spec.id!r} declares ci_method {spec.ci_method!r} but the measured interval "
                         f"was made by {measured.method!r}")
    check_choice("profile", profile, tuple(PROFILE_NOTES))
    n = measured.n if n is None else check_int("n", n, 0)
    if spec.ci_method in ("percentile", "bca") and n < stats.MIN_BOOTSTRAP_SAMPLES:
        raise ValueError(f"claim {spec.id!r}: a bootstrap interval needs n >= {stats.MIN_BOOTSTRAP_SAMPLES}, got {n}")
    nulls: dict[str, Interval] = ({} if null is None else {"null control": null} if isinstance(null, Interval)
                                  else dict(null))
    for name, iv in nulls.items():
        if not isinstance(iv, Interval):
            raise ValueError(f"null {name!r} must be an rgnb.stats.Interval, got {type(iv).__name__}")
    if spec.source != SANITY and premise_met and not nulls:
        raise ValueError(f"claim {spec.id!r} ({spec.source}) needs its null control measured "
                         f"({spec.null_control}); only sanity checks go without")
    if p_value is None:
        p_value = stats.one_sided_p(measured, spec.threshold, spec.passes)
    elif not 0.0 <= p_value <= 1.0:
        raise ValueError(f"p_value must lie in [0, 1], got {p_value!r}")
    return Row(id=spec.id, chapter=spec.chapter, source=spec.source, claim=spec.claim, statistic=spec.statistic,
               test=spec.test_text(), threshold=spec.threshold, passes=spec.passes, premise=spec.premise,
               premise_met=bool(premise_met), premise_detail=premise_detail,
               measured=_interval_record(measured, digits, floor), null_control=spec.null_control,
               null={k: _interval_record(v, digits, floor) for k, v in nulls.items()}, ci_method=spec.ci_method,
               n=int(n), n_unit=n_unit, profile=profile, verdict=verdict_of(spec, measured, nulls, premise_met),
               p_value=None if p_value is None else _rounded(float(p_value), 2), figure=spec.figure,
               post_hoc=bool(spec.post_hoc), note=note)


# --------------------------------------------------------------------------------------------- #
# Display
# --------------------------------------------------------------------------------------------- #
def _escape(cell: Any) -> str:
    return str(cell).replace("|", "\\|").replace("\n", " ")


def anchor(row_id: str) -> str:
    """HTML id of a row in its chapter's table (the dashboard links to it)."""
    return "claim-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in row_id)


def _figure_cell(label: str) -> str:
    return f"{{numref}}`{label}`" if label else "table"


def _null_cell(row: Row) -> str:
    if not row.null:
        return row.null_control or "none (sanity check)"
    return "; ".join(f"{name}: {rec['text']}" for name, rec in row.null.items())


def _premise_cell(row: Row) -> str:
    mark = "met" if row.premise_met else "**not met**"
    return f"{row.premise} ({mark}{': ' + row.premise_detail if row.premise_detail else ''})"


def chapter_markdown(rows: Iterable[Row]) -> str:
    """A chapter's claims table as MyST Markdown (rendered as an HTML table by the book)."""
    rows = list(rows)
    head = ["claim", "test", "premise", "measured (95 % CI)", "null control (same statistic)", "verdict", "evidence"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        post = " (post hoc)" if r.post_hoc else ""
        claim = f'<span id="{anchor(r.id)}"></span>**{r.source}**{post}: {r.claim}'
        test = f"{r.statistic}: {r.test}"
        measured = f"{r.measured['text']} ({r.ci_method}, n = {r.n} {r.n_unit})"
        if r.p_value is not None:
            measured += f", one-sided p = {format_number(r.p_value, 2, 1e-4)}"
        verdict = f"**{r.verdict}**" + (f" — {r.note}" if r.note else "")
        lines.append("| " + " | ".join(_escape(x) for x in (claim, test, _premise_cell(r), measured, _null_cell(r),
                                                            verdict, _figure_cell(r.figure))) + " |")
    return "\n".join(lines)


class ClaimsTable:
    """A chapter's evaluated rows; displays as the profile note and the claims table (Markdown)."""

    def __init__(self, chapter: str, profile: str, rows: list[Row]):
        self.chapter = chapter
        self.profile = profile
        self.rows = rows

    def _repr_markdown_(self) -> str:
        return f"{PROFILE_NOTES[self.profile]}\n\n{chapter_markdown(self.rows)}\n"

    def __repr__(self) -> str:
        return self._repr_markdown_()


def record(run, rows: Iterable[Row], directory: str | Path | None = None) -> ClaimsTable:
    """Write a chapter's rows to the ledger (deterministic JSON) and return the displayable table.

    ``run``: the chapter's :class:`rgnb.provenance.ChapterRun` (its chapter name and profile).
    Rows must belong to that chapter and profile, with unique ids.
    """
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
    base = Path(directory) if directory is not None else run_dir()
    base.mkdir(parents=True, exist_ok=True)
    payload = {"schema": SCHEMA, "chapter": run.chapter, "profile": run.profile, "rows": [r.to_json() for r in rows]}
    path = base / f"{run.chapter}.claims.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return ClaimsTable(run.chapter, run.profile, rows)


# --------------------------------------------------------------------------------------------- #
# The ledger
# --------------------------------------------------------------------------------------------- #
def load_ledger(directory: str | Path | None = None) -> list[Row]:
    """Every recorded row of a run directory, chapters in book order (schema-2 files only)."""
    from rgnb.execute import chapters

    base = Path(directory) if directory is not None else run_dir()
    if not base.is_dir():
        return []
    found = {p.name.removesuffix(".claims.json"): p for p in base.glob("*.claims.json")}
    order = [c for c in chapters() if c in found] + sorted(set(found) - set(chapters()))
    rows: list[Row] = []
    for chapter in order:
        data = json.loads(found[chapter].read_text())
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"{found[chapter]} is not a schema-{SCHEMA} claims file; re-execute chapter {chapter!r}")
        rows += [Row(**r) for r in data["rows"]]
    return rows


def holm_decisions(rows: Iterable[Row], alpha: float = ALPHA_ONE_SIDED) -> dict[str, str]:
    """Holm-adjusted decision per paper-claim row id, over the family of paper-claim rows.

    A raw ``reproduced`` stands when its Holm-adjusted one-sided p-value is below ``alpha``;
    otherwise it becomes ``inconclusive after Holm``. Rows without a p-value (exact or
    bootstrap intervals) keep their raw verdict, marked ``(no p-value)``; other verdicts are kept.
    """
    family = [r for r in rows if r.is_paper_claim and r.verdict == REPRODUCED and r.p_value is not None]
    adjusted = dict(zip([r.id for r in family], stats.holm([r.p_value for r in family]))) if family else {}
    out = {}
    for r in rows:
        if not r.is_paper_claim:
            continue
        if r.id in adjusted:
            p = format_number(adjusted[r.id], 2, 1e-4)
            p = p if p.startswith("<") else f"= {p}"
            out[r.id] = (f"reproduced (Holm p {p})" if adjusted[r.id] < alpha else f"inconclusive after Holm (p {p})")
        elif r.verdict == REPRODUCED:
            out[r.id] = "reproduced (no p-value)"
        else:
            out[r.id] = r.verdict
    return out


def kind_of(row: Row) -> str:
    """``paper`` (P1-P3 as stated), ``ours`` (the book's own claims, post hoc rows included) or ``sanity check``."""
    if row.source == SANITY:
        return "sanity check"
    return "paper" if row.is_paper_claim else "ours"


def tally(rows: Iterable[Row]) -> dict[str, int]:
    """Number of rows per verdict."""
    counts = {v: 0 for v in VERDICTS}
    for r in rows:
        counts[r.verdict] += 1
    return counts


def _link(row: Row) -> str:
    return f'<a href="{row.chapter}.html#{anchor(row.id)}">{row.chapter}</a>'


def ledger_markdown(rows: Iterable[Row], kind: str) -> str:
    """One table of a run's rows of one ``kind`` (``paper``, ``ours``, ``sanity check``), with its tally."""
    check_choice("kind", kind, ("paper", "ours", "sanity check"))
    rows = [r for r in rows if kind_of(r) == kind]
    if not rows:
        return f"*No {kind} rows in this run.*"
    holm = holm_decisions(rows) if kind == "paper" else {}
    head = ["chapter", "source", "claim", "measured (95 % CI)", "verdict"] + (["Holm-adjusted"] if kind == "paper" else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [_link(r), r.source, r.claim, r.measured["text"], f"**{r.verdict}**"]
        if kind == "paper":
            cells.append(holm.get(r.id, ""))
        lines.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    counts = ", ".join(f"{n} {v}" for v, n in tally(rows).items() if n)
    return "\n".join(lines) + f"\n\n{len(rows)} {kind} rows: {counts}."


def dashboard_markdown(ledgers: Mapping[str, list[Row]]) -> str:
    """Every paper claim with its verdict per profile run (``{profile: rows}``), linked to its chapter row."""
    profiles = [p for p in ledgers if ledgers[p]]
    if not profiles:
        return "*No recorded run yet: execute the book (`make book`).*"
    seen: dict[str, Row] = {}
    verdicts: dict[str, dict[str, str]] = {}
    for p in profiles:
        for r in ledgers[p]:
            if kind_of(r) != "paper":
                continue
            seen.setdefault(r.id, r)
            verdicts.setdefault(r.id, {})[p] = r.verdict
    if not seen:
        return "*No paper claims recorded yet.*"
    head = ["paper", "claim"] + [f"verdict at `{p}`" for p in profiles]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rid, r in sorted(seen.items(), key=lambda kv: (kv[1].source, list(seen).index(kv[0]))):
        cells = [r.source, f'<a href="{r.chapter}.html#{anchor(r.id)}">{r.claim}</a>']
        cells += [f"**{verdicts[rid][p]}**" if p in verdicts[rid] else "not run" for p in profiles]
        lines.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    return "\n".join(lines)


def ledger_json(rows: Iterable[Row]) -> str:
    """The rows as deterministic JSON (for diffing two runs)."""
    rows = list(rows)
    holm = holm_decisions(rows)
    return json.dumps([{**r.to_json(), "holm": holm.get(r.id)} for r in rows], indent=1, sort_keys=True)


def ledger_text(rows: Iterable[Row]) -> str:
    """The rows as a plain-text table (for ``python -m rgnb claims``)."""
    rows = list(rows)
    holm = holm_decisions(rows)
    out = []
    for r in rows:
        extra = f"  [Holm: {holm[r.id]}]" if r.id in holm else ""
        out.append(f"{r.chapter:14s} {r.source:12s} {r.id:34s} {r.measured['text']:26s} {r.verdict}{extra}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m rgnb claims [--run-dir DIR] [--json]``: print a run's ledger."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rgnb claims", description="print the claims ledger of a run")
    parser.add_argument("--run-dir", default=None, help="run directory (default: book/_run, or $RGNB_RUN_DIR)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    rows = load_ledger(args.run_dir)
    print(ledger_json(rows) if args.json else ledger_text(rows))
    return 0

