"""The committed ledger is what the committed notebooks show: every stored claims row appears in its
chapter's stored notebook output with the same verdict and effects, and nothing else claims a row."""

import json
import re

import pytest

from rgnb import claims
from rgnb.layout import REPO_ROOT, chapters

ROWS = claims.load_ledger(REPO_ROOT / "book" / "_run")
CHAPTERS = sorted({r.chapter for r in ROWS})


def _markdown_outputs(chapter: str, mime: str = "text/markdown") -> str:
    nb = json.loads((REPO_ROOT / "book" / f"{chapter}.ipynb").read_text())
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get(mime)
            if text:
                parts.append("".join(text))
    return "\n".join(parts)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_stored_row_is_shown_with_its_verdict_and_effects(chapter):
    shown = _markdown_outputs(chapter)
    rows = [r for r in ROWS if r.chapter == chapter]
    for r in rows:
        lines = [ln for ln in shown.splitlines() if f'id="{claims.anchor(r.id)}"' in ln]
        assert len(lines) == 1, f"{chapter}: row {r.id} is shown {len(lines)} times in the stored notebook"
        assert f"**{r.verdict}**" in lines[0], f"{chapter}: {r.id} shows another verdict than the ledger's {r.verdict!r}"
        for name, e in claims.tables.decisive_effects(r)[0]:
            assert f"{name}: {e['text']}" in lines[0], f"{chapter}: {r.id}'s effect {name} differs from the ledger"
    anchors = set(re.findall(r'id="(claim-[^"]+)"', shown))
    assert anchors == {claims.anchor(r.id) for r in rows}, f"{chapter}: rows shown but not in the ledger"


def test_the_dashboard_shows_the_stored_verdicts_after_holm():
    shown = _markdown_outputs("intro", "text/html")
    decisions = claims.holm_decisions(ROWS)
    rows = re.findall(r"<tr>(.*?)</tr>", shown[:shown.index("</div>", shown.index('class="rgnb-dashboard"'))])
    for r in ROWS:
        if r.source not in claims.PAPERS:
            continue
        line = next(ln for ln in rows if f"#{claims.anchor(r.id)}" in ln)
        want = decisions.get(r.id, r.verdict)
        assert f"rgnb-v-{want.replace(' ', '-')}" in line and f"</span> {want}</span>" in line, r.id
        assert ("post hoc" in line) == r.post_hoc, r.id


@pytest.mark.parametrize("chapter", chapters())
def test_each_stored_notebook_runs_the_code_of_its_source(chapter):
    """The stored notebook's code cells are the jupytext source's, in order (papermill's injected parameters
    cell aside): an edit of the source that was not carried to the stored notebook fails here."""
    import jupytext

    source = [c.source.strip() for c in jupytext.read(REPO_ROOT / "book" / f"{chapter}.py").cells
              if c.cell_type == "code"]
    stored = json.loads((REPO_ROOT / "book" / f"{chapter}.ipynb").read_text())
    cells = ["".join(c["source"]).strip() for c in stored["cells"] if c["cell_type"] == "code"
             and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    assert cells == source
