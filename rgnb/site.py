"""The rendered site: Sphinx hooks that shape it, and a headless-browser check of what readers see.

Sphinx side (loaded by ``_config.yml`` as the local extension ``rgnb.site``):
- copies every chapter's jupytext source ``book/<chapter>.py`` next to its ``.ipynb`` under
  ``_build/html/_sources/book/`` and adds it to the page's download menu;
- puts a "Re-run this page" box under each chapter title: the stored run's profile and device, what a
  verdict at that profile does and does not show, and the exact commands that re-execute the page.

Browser side (:func:`check_site`, ``python -m rgnb.site``): opens every built page in headless
Chromium after its scripts ran (MathJax included), saves a screenshot per page and checks tables,
math, figures, images, citations, external requests and error output (see :func:`page_problems`).
"""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = REPO_ROOT / "book"
RUN_DIR = BOOK_DIR / "_run"

#: What a verdict computed at each profile does and does not show (shown on every chapter and the intro).
PROFILE_MEANING = {
    "smoke": ("a few tiny networks and short chains, sized to run the whole book on a 2-core CPU in minutes. "
              "It checks that the code runs end to end; it is not a test of the papers: a \"not reproduced\" "
              "or \"inconclusive\" verdict at smoke says nothing about the papers' claims."),
    "reference": ("networks trained to the Bayes floor with several seeds, re-executable on a laptop CPU in "
                  "minutes. Its verdicts are this book's answer at that scale; they do not show what happens at "
                  "the papers' widths, depths and data sizes."),
    "full": ("paper-scale sizes, run on a GPU. Its verdicts are the closest this book comes to the papers' setting; "
             "they still test our reading of the abstracts, with our choices of statistics and thresholds."),
}


def stored_provenance(chapter: str, run_dir: Path = RUN_DIR) -> dict:
    """The provenance record of a chapter's stored execution (``{}`` when there is none)."""
    path = Path(run_dir) / f"{chapter}.provenance.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def rerun_commands(chapter: str, profile: str = "reference") -> list[str]:
    """The exact shell commands that re-execute one chapter and rebuild the HTML (from the repository root)."""
    return [
        f".venv/bin/python -m rgnb execute --profile {profile} --chapter {chapter}"
        f"   # re-executes book/{chapter}.ipynb, writes book/_run/",
        ".venv/bin/python -m rgnb build   # rebuilds _build/html from the stored notebooks (no execution)",
    ]


# --------------------------------------------------------------------------------------------- Sphinx


def _chapter_of(docname: str) -> str | None:
    parts = docname.split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "book" else None


def _rerun_box(chapter: str):
    from docutils import nodes

    prov = stored_provenance(chapter)
    profile = prov.get("profile", "")
    box = nodes.admonition(classes=["tip", "rgnb-rerun"])
    box += nodes.title(text="Re-run this page")
    para = nodes.paragraph()
    if profile:
        para += nodes.Text(f"The outputs below were computed at profile ")
        para += nodes.literal(text=profile)
        para += nodes.Text(f" on {prov.get('device_name', prov.get('device', '?'))}"
                           f" (git {prov.get('git_revision', '?')}, {prov.get('timestamp_utc', '?')} UTC). ")
        if profile in PROFILE_MEANING:
            para += nodes.strong(text=f"{profile}: ")
            para += nodes.Text(PROFILE_MEANING[profile])
    else:
        para += nodes.Text("No stored run record was found for this page.")
    box += para
    box += nodes.paragraph(text="To re-execute this page (from the repository root, after `make book` set up .venv):")
    code = "\n".join(rerun_commands(chapter, "reference"))
    block = nodes.literal_block(code, code, language="bash")
    box += block
    return box


def _add_rerun_box(app, doctree) -> None:
    from docutils import nodes

    chapter = _chapter_of(app.env.docname)
    if chapter is None:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next((c for c in section.children if isinstance(c, nodes.title)), None)
    index = section.index(title) + 1 if title is not None else 0
    section.insert(index, _rerun_box(chapter))


def _add_py_download(app, pagename, templatename, context, doctree) -> None:
    chapter = _chapter_of(pagename)
    if chapter is None or not (BOOK_DIR / f"{chapter}.py").exists():
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            url = f"{context['pathto']('_sources', 1)}/book/{chapter}.py"
            group["buttons"].insert(1, {"type": "link", "url": url, "text": ".py",
                                        "tooltip": "Download the jupytext source (py:percent)",
                                        "icon": "fas fa-code", "label": "download-jupytext-button"})


def _copy_py_sources(app, exc) -> None:
    import shutil

    if exc is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_sources" / "book"
    dest.mkdir(parents=True, exist_ok=True)
    for docname in app.env.found_docs:
        chapter = _chapter_of(docname)
        if chapter and (BOOK_DIR / f"{chapter}.py").exists():
            shutil.copyfile(BOOK_DIR / f"{chapter}.py", dest / f"{chapter}.py")


def setup(app):
    """Sphinx entry point (``sphinx: local_extensions: {rgnb.site: ./}`` in ``_config.yml``)."""
    app.connect("doctree-read", _add_rerun_box)
    app.connect("html-page-context", _add_py_download, priority=600)
    app.connect("build-finished", _copy_py_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
