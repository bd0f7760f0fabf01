"""The ledger as a reader meets it: a chapter's claims table, the tallies and the dashboard (MyST Markdown)."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from rgnb.claims.ledger import Row, holm_adjusted, holm_decisions, kind_of, tally
from rgnb.claims.spec import PAPERS, REPRODUCED
from rgnb.stats import format_number
from rgnb.validate import check_choice

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


def escape(cell: Any) -> str:
    return str(cell).replace("|", "\\|").replace("\n", " ")


def markdown_table(head: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A Markdown table; cells are escaped (``|``, newlines)."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(escape(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def anchor(row_id: str) -> str:
    """HTML id of a row in its chapter's table (the dashboard links to it)."""
    return "claim-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in row_id)


def p_text(p: float | None) -> str:
    if p is None:
        return "n/a"
    return format_number(p, 2, 1e-4)


def margin_text(row: Row) -> str:
    """How the verdict depends on the margin, e.g. ``reproduced for m < 0.21; inconclusive to 0.3; ...``."""
    parts = []
    for a, b, v in row.margin_segments:
        if not math.isfinite(b):
            parts.append(f"{v} beyond {format_number(a, 2)}" if math.isfinite(a) and a > 0 else v)
        elif not math.isfinite(a) or a == 0:
            parts.append(f"{v} below {format_number(b, 2)}")
        else:
            parts.append(f"{v} {format_number(a, 2)}-{format_number(b, 2)}")
    return "; ".join(parts)


def decisive_effects(row: Row, effects: dict | None = None, limit: int = 4) -> tuple[list[tuple[str, dict]], int]:
    """The ``limit`` effects nearest to deciding the row against it (presence: the CI end nearest the
    margin's wrong side; absence: the widest reach outside 0), and how many are not shown."""
    items = list((row.effects if effects is None else effects).items())
    if len(items) <= limit:
        return items, 0
    if row.kind == "absence":
        key = lambda kv: -max(abs(kv[1]["low"]), abs(kv[1]["high"]))  # noqa: E731
    elif row.direction == "above":
        key = lambda kv: kv[1]["low"]  # noqa: E731
    else:
        key = lambda kv: -kv[1]["high"]  # noqa: E731
    shown = sorted(items, key=key)[:limit]
    order = [k for k, _ in items]
    return sorted(shown, key=lambda kv: order.index(kv[0])), len(items) - limit


def _effects_cell(row: Row) -> str:
    if not row.effects:
        return "n/a"
    shown, hidden = decisive_effects(row)
    cells = [f"{k}: {v['text']}" for k, v in shown]
    if hidden:
        cells.append(f"(and {hidden} more contrasts, all in the ledger; shown: the {len(shown)} nearest to deciding "
                     "against the claim)")
    if row.positive_control:
        ctrl, more = decisive_effects(row, row.positive_control)
        cells += [f"positive control ({k}): {v['text']}" for k, v in ctrl]
        if more:
            cells.append(f"(and {more} more control points)")
    if row.placebo:
        cells += [f"placebo ({k}): {v['text']}" for k, v in row.placebo.items()]
    return "<br>".join(cells)


def _claim_cell(row: Row) -> str:
    post = " (post hoc)" if row.post_hoc else ""
    return f'<span id="{anchor(row.id)}"></span>**{row.source}**{post}: {row.claim}'


def _verdict_cell(row: Row) -> str:
    v = f"**{row.verdict}**"
    if row.reason:
        v += f": {row.reason}"
    if not row.premise_met:
        v += f" ({row.premise_detail})"
    return v


def chapter_markdown(rows: Iterable[Row]) -> str:
    """A chapter's claims as two tables: the verdicts (one line per claim) and the tests behind them."""
    rows = list(rows)
    verdicts = markdown_table(
        ["claim", "primary configuration", "effect vs each null (95 % CI)", "verdict", "p (one-sided)",
         "critical margin", "other configurations"],
        [[_claim_cell(r), r.configuration, _effects_cell(r), _verdict_cell(r), p_text(r.p_value),
          "none: the same verdict at every margin" if r.critical_margin is None else
          f"{format_number(r.critical_margin, 3)} (registered "
                                                    f"{format_number(r.margin, 3)})",
          f"holds in {r.holds}" if r.holds else "none"] for r in rows])
    tests = markdown_table(
        ["claim", "statistic", "test", "margin: why", "premise", "verdict by margin", "evidence"],
        [[r.id, r.statistic, r.test, r.margin_reason or "a bound of the check",
          f"{r.premise} ({'met' if r.premise_met else '**not met**'}{': ' + r.premise_detail if r.premise_detail else ''})",
          margin_text(r), f"{{numref}}`{r.figure}`" if r.figure else "table"] for r in rows])
    sub = [r for r in rows if r.subrows]
    parts = [verdicts, "**The tests.**", tests]
    if sub:
        parts += ["**Other configurations** (sub-rows: the same test, not counted in any tally).",
                  markdown_table(["claim", "configuration", "effects (95 % CI)", "verdict"],
                                 [[r.id, s["configuration"], "<br>".join(f"{k}: {t}" for k, t in s["effects"].items()),
                                   s["verdict"]] for r in sub for s in r.subrows])]
    hoc = [r for r in rows if r.post_hoc]
    if hoc:
        parts.append("Post hoc (derived from `results/claims_history.json`): " + "; ".join(
            f"`{r.id}`: {r.post_hoc_reason}" for r in hoc) + ".")
    return "\n\n".join(parts)


def findings_markdown(rows: Iterable[Row]) -> str:
    """What a chapter found, computed from its rows: one bullet per claim (source, verdict, the decisive effect
    with its CI, the row's note) and, for a claim that did not reproduce, why (the rule's reason or the failed
    premise). The chapter's closing paragraph: no number in it is typed by hand."""
    out = []
    for r in rows:
        if r.kind == "check":
            continue
        hoc = ", post hoc" if r.post_hoc else ""
        line = f"- **{r.claim}** ({r.source}{hoc}; {r.configuration}): **{r.verdict}**"
        shown, more = decisive_effects(r, limit=1)
        if shown:
            name, e = shown[0]
            line += f"; {name}: {e['text']}" + (f" (and {more} more)" if more else "")
        if r.verdict != REPRODUCED:
            why = r.reason if r.premise_met else r.premise_detail
            if why:
                line += f". Why: {why}"
        if r.note:
            line += f". {r.note[0].upper()}{r.note[1:]}"
        if r.holds:
            line += f". Other configurations: holds in {r.holds}"
        out.append(line + ".")
    return "\n".join(out)


class ClaimsTable:
    """A chapter's evaluated rows; displays as the profile note and the claims tables (Markdown)."""

    def __init__(self, chapter: str, profile: str, rows: list[Row]):
        self.chapter = chapter
        self.profile = profile
        self.rows = rows

    def _repr_markdown_(self) -> str:
        return f"{PROFILE_NOTES[self.profile]}\n\n{chapter_markdown(self.rows)}\n"

    def __repr__(self) -> str:
        return self._repr_markdown_()


def _link(row: Row, text: str | None = None) -> str:
    return f'<a href="{row.chapter}.html#{anchor(row.id)}">{text or row.chapter}</a>'


def ledger_markdown(rows: Iterable[Row], kind: str) -> str:
    """One table of a run's rows of one ``kind`` (``paper``, ``ours``, ``sanity check``), with its tally."""
    check_choice("kind", kind, ("paper", "ours", "sanity check"))
    rows = list(rows)
    adj, dec = holm_adjusted(rows), holm_decisions(rows)
    mine = [r for r in rows if kind_of(r) == kind]
    if not mine:
        return f"*No {kind} rows in this run.*"
    head = ["chapter", "claim", "effect (95 % CI)", "verdict"] + (["p", "Holm p", "after Holm"] if kind == "paper" else [])
    body = []
    for r in mine:
        eff = "; ".join(f"{k}: {v['text']}" for k, v in r.effects.items()) or "n/a"
        cells = [_link(r), f"**{r.source}**{' (post hoc)' if r.post_hoc else ''}: {r.claim}", eff, f"**{r.verdict}**"]
        if kind == "paper":
            cells += [p_text(r.p_value), p_text(adj.get(r.id)), f"**{dec[r.id]}**"]
        body.append(cells)
    counts = ", ".join(f"{n} {v}" for v, n in tally(mine, dec if kind == "paper" else None).items() if n)
    family = f" (after Holm over the family of {len(adj)} paper claims)" if kind == "paper" else ""
    return markdown_table(head, body) + f"\n\n{len(mine)} {kind} rows{family}: {counts}."


def tally_text(rows: Iterable[Row], profile: str) -> str:
    """One line: the paper claims of a run, registered ones after Holm, post hoc ones apart."""
    rows = [r for r in rows if r.source in PAPERS]
    dec = holm_decisions(rows)
    reg = [r for r in rows if r.is_paper_claim]
    hoc = [r for r in rows if r.post_hoc]
    counts = ", ".join(f"{n} {v}" for v, n in tally(reg, dec).items() if n) or "none"
    hoc_counts = ", ".join(f"{n} {v}" for v, n in tally(hoc).items() if n) or "none"
    return (f"**At `{profile}`: {len(rows)} paper claims.** Registered (the Holm family, m = {len(reg)}): "
            f"{counts}. Post hoc (labelled, not counted): {hoc_counts}.")


def dashboard_markdown(ledgers: Mapping[str, list[Row]]) -> str:
    """Every paper claim, one row each, with its verdict after Holm per profile run (``{profile: rows}``)."""
    profiles = [p for p in ledgers if ledgers[p]]
    if not profiles:
        return "*No recorded run yet: execute the book (`make book`).*"
    seen: dict[str, Row] = {}
    verdicts: dict[str, dict[str, str]] = {}
    for p in profiles:
        dec = holm_decisions(ledgers[p])
        for r in ledgers[p]:
            if r.source not in PAPERS:
                continue
            seen.setdefault(r.id, r)
            verdicts.setdefault(r.id, {})[p] = dec.get(r.id, r.verdict) + (" (post hoc)" if r.post_hoc else "")
    if not seen:
        return "*No paper claims recorded yet.*"
    order = sorted(seen, key=lambda rid: (seen[rid].source, list(seen).index(rid)))
    tallies = "\n\n".join(tally_text(ledgers[p], p) for p in profiles)
    return tallies + "\n\n" + markdown_table(["paper", "claim"] + [f"after Holm at `{p}`" for p in profiles],
                          [[seen[rid].source, _link(seen[rid], seen[rid].claim)]
                           + [f"**{verdicts[rid][p]}**" if p in verdicts[rid] else "not run" for p in profiles]
                           for rid in order])
