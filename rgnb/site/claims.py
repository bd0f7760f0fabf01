"""Build-time shaping of the stored chapters (no re-execution): claims tables from the stored ledger, and the
page's plumbing collapsed at its end.

- :func:`render_claims` replaces each claims table a chapter's stored notebook printed (the Markdown of
  ``rgnb.claims.ClaimsTable``, recognised by its row anchors ``claim-<id>``) and the test tables after it by
  :func:`rgnb.claims.html.claims_table_html` of the same rows, read from the stored ledger
  ``book/_run/<chapter>.claims.json``: three columns that fit a phone, the test in a ``<details>``. A row
  whose anchor is not in the ledger leaves the output as it is.
- :func:`collapse_plumbing` moves the parameters cell and the provenance banner cell into one collapsed
  block ("How this page was computed, and how to re-run it") at the end of the page;
- :func:`collapse_long_outputs` folds a code cell's text output longer than :data:`LONG_OUTPUT_LINES` lines
  (printed records, logs) behind a "show" toggle, so the prose is not buried under it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rgnb.site.paths import RUN_DIR

_ANCHOR = re.compile(r'id="(claim-[^"]+)"')
#: Paragraphs of a ClaimsTable output that introduce its test tables (removed with them).
_TEST_PARTS = ("The tests.", "Other configurations", "Post hoc")
PLUMBING_TITLE = "How this page was computed, and how to re-run it"
#: Text outputs longer than this (lines) are folded behind a toggle.
LONG_OUTPUT_LINES = 30


def stored_rows(chapter: str, run_dir: Path = RUN_DIR) -> dict:
    """``{anchor: Row}`` of a chapter's stored ledger (``{}`` when absent or of another schema)."""
    from rgnb import claims

    path = Path(run_dir) / f"{chapter}.claims.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema") != claims.SCHEMA:
        return {}
    return {claims.anchor(r.id): r for r in _rows(path)}


def _rows(path: Path) -> list:
    import shutil
    import tempfile

    from rgnb.claims.ledger import load_ledger

    with tempfile.TemporaryDirectory(prefix="rgnb-site-") as tmp:
        shutil.copyfile(path, Path(tmp) / path.name)
        return load_ledger(tmp)


def _anchors(node) -> list[str]:
    from docutils import nodes

    return [a for raw in node.findall(nodes.raw) for a in _ANCHOR.findall(raw.astext())]


def _figure_hrefs(doctree) -> dict:
    from docutils import nodes

    return {name: f"#{name}" for fig in doctree.findall(nodes.figure) for name in fig.get("ids", [])}


def render_claims(doctree, chapter: str, run_dir: Path = RUN_DIR) -> int:
    """Replace the stored claims tables of ``doctree`` by the compact HTML; returns how many were replaced."""
    from docutils import nodes

    from rgnb.claims.html import claims_table_html

    by_anchor = stored_rows(chapter, run_dir)
    if not by_anchor:
        return 0
    hrefs = _figure_hrefs(doctree)
    done = 0
    for table in list(doctree.findall(nodes.table)):
        anchors = _anchors(table)
        if not anchors or table.parent is None or any(a not in by_anchor for a in anchors):
            continue
        parent = table.parent
        index = parent.index(table)
        html = claims_table_html([by_anchor[a] for a in anchors], hrefs)
        # the test tables that follow it (ClaimsTable's "The tests." / sub-rows / post hoc parts) go too
        follow = parent.children[index + 1:]
        drop = []
        for node in follow:
            text = node.astext().strip()
            if isinstance(node, nodes.table) or (isinstance(node, nodes.paragraph) and text.startswith(_TEST_PARTS)):
                drop.append(node)
            else:
                break
        for node in drop:
            parent.remove(node)
        parent.replace(table, nodes.raw("", f'<div class="rgnb-claims-wrap">{html}</div>', format="html"))
        done += 1
    return done


def _is_cell(node, tag: str | None = None) -> bool:
    from docutils import nodes

    return (isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"
            and (tag is None or f"tag_{tag}" in node.get("classes", [])))


def plumbing_cells(doctree) -> list:
    """The parameters cell, papermill's injected-parameters cell and the provenance banner cell (its output
    starts with "Executed"), in page order."""
    from docutils import nodes

    out = []
    for cell in doctree.findall(lambda n: _is_cell(n)):
        if _is_cell(cell, "parameters") or _is_cell(cell, "injected-parameters"):
            out.append(cell)
        elif any(c.get("nb_element") == "cell_code_output" and c.astext().lstrip().startswith("Executed")
                 for c in cell.children if isinstance(c, nodes.Element)):
            out.append(cell)
    return out


def collapse_plumbing(doctree, box=None) -> bool:
    """Move the plumbing cells (and ``box``, the re-run admonition) into one collapsed dropdown at the end of
    the page's top section. Returns False when the page has no top section."""
    from docutils import nodes

    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return False
    cells = plumbing_cells(doctree)
    drop = nodes.admonition(classes=["dropdown", "rgnb-plumbing"])
    drop += nodes.title(text=PLUMBING_TITLE)
    for cell in cells:
        cell.parent.remove(cell)
    banner = [c for c in cells if not (_is_cell(c, "parameters") or _is_cell(c, "injected-parameters"))]
    params = [c for c in cells if c not in banner]
    for cell in banner:
        drop += cell
    if box is not None:
        for child in list(box.children):
            if not isinstance(child, nodes.title):
                drop += child.deepcopy()
    if params:
        drop += nodes.paragraph(text="The page's parameters cell (papermill injects a run's values after it):")
        for cell in params:
            drop += cell
    section += drop
    return True


def collapse_long_outputs(doctree, max_lines: int = LONG_OUTPUT_LINES) -> int:
    """Fold each printed (text) output longer than ``max_lines`` lines into a ``toggle`` container
    (sphinx-togglebutton: hidden behind a button); tables, figures and Markdown of the same cell stay shown.
    Returns how many outputs were folded."""
    from docutils import nodes

    def lines_of(node) -> int:
        """Lines a reader sees of a printed output: a stream, or a mime bundle that has only plain text (a
        bundle with Markdown, HTML or an image renders that instead: 0)."""
        if isinstance(node, nodes.literal_block):
            return node.astext().count("\n") + 1
        mimes = {c.get("mime_type") for c in node.children if isinstance(c, nodes.Element)}
        if mimes != {"text/plain"}:
            return 0
        return sum(b.astext().count("\n") + 1 for b in node.findall(nodes.literal_block))

    done = 0
    for out in list(doctree.findall(lambda n: isinstance(n, nodes.container)
                                    and n.get("nb_element") == "cell_code_output")):
        for child in list(out.children):
            if not isinstance(child, nodes.Element) or "toggle" in child.get("classes", []):
                continue
            lines = lines_of(child)
            if lines <= max_lines or list(child.findall(nodes.raw)) or list(child.findall(nodes.table)):
                continue
            wrapper = nodes.container(classes=["toggle", "rgnb-long-output"])
            index = out.index(child)
            out.remove(child)
            wrapper += child
            out.insert(index, wrapper)
            out.insert(index, nodes.paragraph(text=f"A printed record of {lines} lines, folded:",
                                              classes=["rgnb-long-output-note"]))
            done += 1
    return done


__all__ = ["LONG_OUTPUT_LINES", "PLUMBING_TITLE", "collapse_long_outputs", "collapse_plumbing", "plumbing_cells",
           "render_claims", "stored_rows"]
