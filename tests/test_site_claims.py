"""Tests of rgnb.site.claims: stored claims tables rendered from the ledger at build time, plumbing collapsed."""

import shutil

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

from rgnb import claims
from rgnb.site import claims as site_claims
from rgnb.site.paths import RUN_DIR


def _doc():
    return new_document("test", get_default_settings(Parser))


def _cell(tag=None, output_text=None, children=()):
    cell = nodes.container(classes=["cell"] + ([f"tag_{tag}"] if tag else []), nb_element="cell_code")
    if output_text is not None or children:
        out = nodes.container(classes=["cell_output"], nb_element="cell_code_output")
        if output_text is not None:
            out += nodes.paragraph(text=output_text)
        for c in children:
            out += c
        cell += out
    return cell


def _claims_table(anchors):
    table = nodes.table()
    for a in anchors:
        para = nodes.paragraph()
        para += nodes.raw("", f'<span id="{a}"></span>', format="html")
        table += para
    return table


def test_render_claims_replaces_the_stored_tables_by_the_ledger_rows(tmp_path):
    shutil.copyfile(RUN_DIR / "selectivity.claims.json", tmp_path / "selectivity.claims.json")
    rows = claims.load_ledger(tmp_path)
    anchors = [claims.anchor(r.id) for r in rows]
    doc = _doc()
    section = nodes.section()
    mime = nodes.container()
    mime += nodes.paragraph(text="Profile note.")
    mime += _claims_table(anchors)
    mime += nodes.paragraph(text="The tests.")
    mime += nodes.table()
    mime += nodes.paragraph(text="Something else the chapter printed.")
    section += _cell(children=[mime])
    doc += section
    assert site_claims.render_claims(doc, "selectivity", tmp_path) == 1
    raw = [n.astext() for n in doc.findall(nodes.raw)]
    assert len(raw) == 1 and 'class="rgnb-claims"' in raw[0]
    assert all(f'id="{a}"' in raw[0] for a in anchors)
    texts = [p.astext() for p in mime.findall(nodes.paragraph)]
    assert texts == ["Profile note.", "Something else the chapter printed."]   # the test tables went too
    assert not list(mime.findall(nodes.table))


def test_a_table_with_an_unknown_row_is_left_as_it_is(tmp_path):
    shutil.copyfile(RUN_DIR / "selectivity.claims.json", tmp_path / "selectivity.claims.json")
    doc = _doc()
    doc += _cell(children=[_claims_table(["claim-not-in-the-ledger"])])
    assert site_claims.render_claims(doc, "selectivity", tmp_path) == 0
    assert site_claims.render_claims(doc, "no_such_chapter", tmp_path) == 0


def test_plumbing_moves_into_one_collapsed_block_at_the_end():
    doc = _doc()
    section = nodes.section()
    section += nodes.title(text="A chapter")
    section += _cell("parameters")
    section += _cell(None, "Executed 2026-12-07 with profile reference")
    section += nodes.paragraph(text="The prose.")
    doc += section
    box = nodes.admonition()
    box += nodes.title(text="Re-run this page")
    box += nodes.paragraph(text="commands")
    assert site_claims.collapse_plumbing(doc, box)
    last = section.children[-1]
    assert "dropdown" in last["classes"] and "rgnb-plumbing" in last["classes"]
    assert last.children[0].astext() == site_claims.PLUMBING_TITLE
    text = last.astext()
    assert "Executed" in text and "commands" in text and "Re-run this page" not in text
    assert [type(c).__name__ for c in section.children] == ["title", "paragraph", "admonition"]
    assert not site_claims.collapse_plumbing(_doc())


def test_long_outputs_are_folded_behind_a_toggle():
    doc = _doc()
    short = _cell(children=[nodes.literal_block(text="one\ntwo")])
    table = _claims_table(["claim-x"])
    long = _cell(children=[nodes.literal_block(text="\n".join(str(i) for i in range(50))), table])
    doc += short
    doc += long
    assert site_claims.collapse_long_outputs(doc) == 1
    toggles = [c for c in doc.findall(nodes.container) if "toggle" in c["classes"]]
    assert len(toggles) == 1 and "49" in toggles[0].astext() and "50 lines" in long.astext()
    assert table.parent is not None and "toggle" not in table.parent["classes"]   # the table stays shown
    assert site_claims.collapse_long_outputs(doc) == 0          # idempotent


def test_a_bundle_with_markdown_is_not_folded_for_its_plain_text_alternative():
    doc = _doc()
    bundle = nodes.container(nb_element="mime_bundle")
    md = nodes.container(mime_type="text/markdown")
    md += nodes.paragraph(text="a table")
    plain = nodes.container(mime_type="text/plain")
    plain += nodes.literal_block(text="\n".join("x" * 80))
    bundle += md
    bundle += plain
    doc += _cell(children=[bundle])
    assert site_claims.collapse_long_outputs(doc) == 0
    bundle.remove(md)
    assert site_claims.collapse_long_outputs(doc) == 1
