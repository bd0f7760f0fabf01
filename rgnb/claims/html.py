"""The ledger as HTML a reader can read on any screen: verdict badges, compact claims tables with the test
in an expandable detail, and the per-paper dashboard of the intro.

- :func:`badge`: a verdict as a coloured badge that carries its text (never colour alone);
- :func:`claims_table_html`: a chapter's claims, three columns (the statement with typeset math, the
  verdict with its reason, the decisive effect with its 95 % CI); configuration, statistic, test, every
  contrast, margin, premise and sub-rows in a ``<details>`` under the statement. Each row carries the
  anchor :func:`rgnb.claims.anchor` so links to a claim land on (and highlight) its row;
- :func:`dashboard_html`: per paper, a tally and one row per paper claim with its verdict after Holm at
  each stored profile, linked to its chapter row; :func:`summary_table_html` the same for other kinds.

The site (``rgnb.site.claims``) renders the stored chapters' claims outputs through
:func:`claims_table_html` at build time, so the layout changes without re-executing a chapter.
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping

from rgnb.claims.display import math_html
from rgnb.claims.ledger import Row, holm_adjusted, holm_decisions, kind_of
from rgnb.claims.spec import PAPERS, VERDICTS
from rgnb.claims.tables import anchor, decisive_effects, margin_text, p_text
from rgnb.stats import format_number

#: The three papers as the dashboard names them (short title, authors and year).
PAPER_TITLES = {
    "P1": "Rank collapse and RG structure of MLP residual networks (Haggi-Mani and Rish, 2026)",
    "P2": "Interpreting fully connected networks via RG on the exponential family (Gong and Xia, 2026)",
    "P3": "Collective kernel EFT for pre-activation ResNets (Kawase and Ota, 2026)",
}
#: A symbol per verdict, so the badge reads without colour.
VERDICT_MARKS = {"reproduced": "\u2713", "not reproduced": "\u2717", "inconclusive": "?", "vacuous test": "\u2205",
                 "premise not met": "\u2013"}


def verdict_slug(verdict: str) -> str:
    """CSS class suffix of a verdict (``not reproduced`` -> ``not-reproduced``)."""
    return verdict.replace(" ", "-")


def badge(verdict: str, post_hoc: bool = False) -> str:
    """A verdict badge: symbol and text on the verdict's colour (``.rgnb-v-<slug>``), "post hoc" tagged."""
    mark = VERDICT_MARKS.get(verdict, "")
    out = (f'<span class="rgnb-verdict rgnb-v-{verdict_slug(verdict)}">'
           f'<span class="rgnb-mark" aria-hidden="true">{mark}</span> {html.escape(verdict)}</span>')
    if post_hoc:
        out += ' <span class="rgnb-tag" title="the test was changed after a result was stored: labelled, never counted">post hoc</span>'
    return out


def _e(text) -> str:
    return html.escape(str(text), quote=False)


def _effect_line(name: str, e: dict, prefix: str = "") -> str:
    return f"{_e(prefix)}{_e(name)}: <span class=\"rgnb-num\">{_e(e['text'])}</span>"


def decisive_text(row: Row) -> str:
    """HTML of the effect nearest to deciding the row against it (``vs <null>: est [low, high]``), or ``n/a``."""
    shown, more = decisive_effects(row, limit=1)
    if not shown:
        if row.measured:
            return f"<span class=\"rgnb-num\">{_e(row.measured['text'])}</span>"
        return "n/a"
    name, e = shown[0]
    out = _effect_line(name, e, "vs " if row.kind != "check" else "")
    if more:
        out += f'<br><span class="rgnb-more">and {more} more (in the detail)</span>'
    return out


def _dl(items: Iterable[tuple[str, str]]) -> str:
    return "<dl class=\"rgnb-dl\">" + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items if v) + "</dl>"


def _effects_html(row: Row, effects: dict, prefix: str = "", limit: int = 6) -> str:
    shown, more = decisive_effects(row, effects, limit=limit)
    lines = [_effect_line(k, v, prefix) for k, v in shown]
    if more:
        lines.append(f"and {more} more (every one in the ledger, <code>python -m rgnb claims</code>; shown: the "
                     f"{len(shown)} nearest to deciding against the claim)")
    return "<br>".join(lines)


def detail_html(row: Row, figure_href: str | None = None) -> str:
    """The test behind a row, as a definition list (configuration, statistic, test, contrasts, margin, premise,
    the verdict as a function of the margin, other configurations, post hoc reason, evidence)."""
    premise = (f"{_e(row.premise)} (<strong>{'met' if row.premise_met else 'not met'}</strong>"
               f"{': ' + _e(row.premise_detail) if row.premise_detail else ''})")
    crit = ("none: the same verdict at every margin" if row.critical_margin is None
            else f"{format_number(row.critical_margin, 3)} (registered {format_number(row.margin, 3)})")
    subrows = "".join(f"<li>{math_html(s['configuration'])}: {badge(s['verdict'])} "
                      f"{_e('; '.join(f'{k}: {t}' for k, t in s['effects'].items()))}"
                      f"{' (' + _e(s['reason']) + ')' if s.get('reason') else ''}</li>" for s in row.subrows)
    n = f"{row.n} {row.n_unit}" if getattr(row, "n", None) else ""
    items = [
        ("configuration that decides it", math_html(row.configuration)),
        ("statistic", math_html(row.statistic)),
        ("test", _e(row.test) + (f" over {_e(n)}" if n else "")),
        ("effect vs each null (95 % CI)", _effects_html(row, row.effects)),
        ("positive control", _effects_html(row, row.positive_control, limit=3) if row.positive_control else ""),
        ("placebo", _effects_html(row, row.placebo, limit=3) if row.placebo else ""),
        ("margin, and why", f"{format_number(row.margin, 3)}: {_e(row.margin_reason or 'a bound of the check')}"),
        ("p (one-sided)", _e(p_text(row.p_value))),
        ("critical margin", _e(crit)),
        ("verdict by margin", _e(margin_text(row))),
        ("premise", premise),
        ("other configurations (not counted)", f"<ul>{subrows}</ul>" if subrows else ""),
        ("post hoc", _e(row.post_hoc_reason) if row.post_hoc else ""),
        ("note", _e(row.note)),
        ("evidence", f'<a href="{figure_href}">the figure</a>' if figure_href else ""),
    ]
    return _dl(items)


def claims_table_html(rows: Iterable[Row], figure_hrefs: Mapping[str, str] | None = None) -> str:
    """A chapter's claims as one compact table (see the module doc); ``figure_hrefs``: ``{figure name: href}``."""
    body = []
    for r in rows:
        href = (figure_hrefs or {}).get(r.figure) if r.figure else None
        source = {"sanity check": "sanity check"}.get(r.source, r.source)
        reason = r.reason if r.premise_met else (r.premise_detail or r.reason)
        reason_html = f'<div class="rgnb-reason">{math_html(reason)}</div>' if reason else ""
        body.append(
            f'<tr id="{anchor(r.id)}" class="rgnb-claim-row">'
            f'<td class="rgnb-claim"><span class="rgnb-source">{_e(source)}</span> {math_html(r.claim)}'
            f'<details class="rgnb-detail"><summary>the test</summary>{detail_html(r, href)}</details></td>'
            f'<td class="rgnb-verdict-cell">{badge(r.verdict, r.post_hoc)}'
            f'{reason_html}</td>'
            f'<td class="rgnb-col-effect">{decisive_text(r)}</td></tr>')
    head = ('<thead><tr><th>claim</th><th>verdict</th><th class="rgnb-col-effect">decisive effect (95 % CI)</th>'
            '</tr></thead>')
    return f'<table class="rgnb-claims">{head}<tbody>{"".join(body)}</tbody></table>'


def _link(row: Row, text_html: str) -> str:
    return f'<a href="{row.chapter}.html#{anchor(row.id)}">{text_html}</a>'


def paper_tally(rows: Iterable[Row], verdicts: Mapping[str, str]) -> str:
    """HTML: per verdict the number of ``rows`` (verdict from ``verdicts`` by id), and how many are post hoc."""
    rows = list(rows)
    counts = {v: sum(1 for r in rows if verdicts.get(r.id, r.verdict) == v) for v in VERDICTS}
    parts = [f'<span class="rgnb-count"><strong>{n}</strong> {badge(v)}</span>' for v, n in counts.items() if n]
    hoc = sum(1 for r in rows if r.post_hoc)
    tail = (f" &middot; {hoc} of {len(rows)} post hoc (labelled; never counted in the registered family)"
            if hoc else "")
    return (f'<span class="rgnb-tally">{len(rows)} claim{"s" if len(rows) != 1 else ""}: ' + " &middot; ".join(parts)
            + tail + "</span>")


def dashboard_html(ledgers: Mapping[str, list[Row]]) -> str:
    """Per paper: its title, a tally and a table of its claims (verdict after Holm at each stored profile)."""
    profiles = [p for p in ledgers if ledgers[p]]
    if not profiles:
        return "<p><em>No recorded run yet: execute the book (<code>make book</code>).</em></p>"
    decided: dict[str, dict[str, str]] = {}
    seen: dict[str, Row] = {}
    for p in profiles:
        dec = holm_decisions(ledgers[p])
        for r in ledgers[p]:
            if r.source in PAPERS:
                seen.setdefault(r.id, r)
                decided.setdefault(p, {})[r.id] = dec.get(r.id, r.verdict)
    out = ['<div class="rgnb-dashboard">']
    for paper in PAPERS:
        mine = [r for r in seen.values() if r.source == paper]
        if not mine:
            continue
        first = profiles[-1]
        rows_first = [r for r in ledgers[first] if r.source == paper]
        head = "".join(f"<th>verdict at <code>{_e(p)}</code></th>" for p in profiles)
        tag = ' <span class="rgnb-tag">post hoc</span>'
        body = "".join(
            f'<tr><td>{_link(r, math_html(r.claim))}{tag if r.post_hoc else ""}</td>'
            + "".join(f"<td>{badge(decided[p][r.id]) if r.id in decided.get(p, {}) else 'not run'}</td>"
                      for p in profiles) + "</tr>" for r in mine)
        out.append(f'<section class="rgnb-paper"><p class="rgnb-paper-head"><strong>{paper}.</strong> '
                   f'{_e(PAPER_TITLES[paper])}<br>{paper_tally(rows_first, decided.get(first, {}))}</p>'
                   f'<table class="rgnb-claims rgnb-dash"><thead><tr><th>claim</th>{head}</tr></thead>'
                   f'<tbody>{body}</tbody></table></section>')
    out.append("</div>")
    return "".join(out)


def summary_table_html(rows: Iterable[Row], kind: str) -> str:
    """The rows of one ``kind`` (``paper``, ``ours``, ``sanity check``) as claim (linked to its row) | chapter |
    verdict (for paper claims: after Holm over the family, with the raw and Holm-adjusted p), and a tally."""
    rows = list(rows)
    mine = [r for r in rows if kind_of(r) == kind]
    if not mine:
        return f"<p><em>No {_e(kind)} rows in this run.</em></p>"
    dec = holm_decisions(rows) if kind == "paper" else {}
    adj = holm_adjusted(rows) if kind == "paper" else {}

    def verdict(r: Row) -> str:
        out = badge(dec.get(r.id, r.verdict), r.post_hoc)
        if kind == "paper":
            out += f'<div class="rgnb-reason">p {_e(p_text(r.p_value))}; Holm p {_e(p_text(adj.get(r.id)))}</div>'
        return out

    head = "verdict after Holm" if kind == "paper" else "verdict"
    body = "".join(f'<tr><td>{_link(r, math_html(r.claim))}</td><td>{_e(r.chapter.replace("_", " "))}</td>'
                   f'<td>{verdict(r)}</td></tr>' for r in mine)
    family = f" (after Holm over the family of {len(adj)} registered paper claims)" if kind == "paper" else ""
    return (f'<table class="rgnb-claims rgnb-dash rgnb-summary"><thead><tr><th>claim</th><th>chapter</th>'
            f'<th>{head}</th></tr></thead><tbody>{body}</tbody></table><p>{paper_tally(mine, dec)}{family}</p>')


__all__ = ["PAPER_TITLES", "VERDICT_MARKS", "badge", "claims_table_html", "dashboard_html", "decisive_text",
           "detail_html", "paper_tally", "summary_table_html", "verdict_slug"]
