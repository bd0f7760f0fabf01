"""Sphinx hooks that shape the rendered site (loaded by ``_config.yml`` as the local extension ``rgnb.site``).

- copies every chapter's jupytext source ``book/<chapter>.py`` next to its ``.ipynb`` under
  ``_build/html/_sources/book/`` and adds it to the page's download menu;
- renders the stored claims tables compactly from the stored ledger (:mod:`rgnb.site.claims`) and collapses
  the page's plumbing (parameters cell, provenance banner, the stored run's profile and device, what a
  verdict at that profile shows, the exact commands that re-execute the page) into one block at its end;
- drops sphinx-thebe's CDN scripts, so the site references no other host.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rgnb.site.claims import collapse_long_outputs, collapse_plumbing, render_claims
from rgnb.site.paths import BOOK_DIR, RUN_DIR


def stored_provenance(chapter: str, run_dir: Path = RUN_DIR) -> dict:
    """The provenance record of a chapter's stored execution (``{}`` when there is none)."""
    path = Path(run_dir) / f"{chapter}.provenance.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def rerun_commands(chapter: str, profile: str = "reference") -> list[str]:
    """The exact shell lines (comments included) that re-execute one chapter and rebuild the HTML.

    A reader's re-run goes to ``_build/runs/<profile>/`` and never touches the stored book."""
    out = f"_build/runs/{profile}/"
    return [
        f"# re-execute the chapter through papermill into {out}{chapter}.ipynb (run record and reproduction "
        f"report in {out}_run/; the stored book is untouched)",
        f".venv/bin/python -m rgnb execute --profile {profile} --chapter {chapter}",
        "# rebuild _build/html from the stored notebooks (executes nothing)",
        ".venv/bin/python -m rgnb build",
    ]


def profile_note(profile: str) -> str:
    """What a verdict at ``profile`` does and does not show (the lead's ``rgnb.claims.PROFILE_NOTES``)."""
    from rgnb.claims import PROFILE_NOTES

    return PROFILE_NOTES.get(profile, f"Profile `{profile}`.")


def _inline_markdown(text: str) -> list:
    """Docutils nodes for text with `code` and **bold** spans (the only markup the profile notes use)."""
    from docutils import nodes

    out = []
    for i, part in enumerate(re.split(r"(`[^`]+`|\*\*[^*]+\*\*)", text)):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(nodes.literal(text=part[1:-1]))
        elif part.startswith("**") and part.endswith("**") and len(part) > 3:
            out.append(nodes.strong(text=part[2:-2]))
        elif part:
            out.append(nodes.Text(part))
    return out


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
        para += nodes.Text("The outputs on this page were computed at profile ")
        para += nodes.literal(text=profile)
        para += nodes.Text(f" on {prov.get('device_name', prov.get('device', '?'))}"
                           f" (git {prov.get('git_revision', '?')}, {prov.get('timestamp_utc', '?')} UTC).")
        box += para
        para = nodes.paragraph()
        para += _inline_markdown(profile_note(profile))
    else:
        para += nodes.Text("No stored run record was found for this page.")
    box += para
    para = nodes.paragraph(text="To re-execute this page, from the repository root once ")
    para += nodes.literal(text="make book")
    para += nodes.Text(" has set up ")
    para += nodes.literal(text=".venv")
    para += nodes.Text(" (on a GPU, --profile full):")
    box += para
    code = "\n".join(rerun_commands(chapter, "reference"))
    block = nodes.literal_block(code, code, language="bash")
    box += block
    return box


def _add_rerun_box(app, doctree) -> None:
    from docutils import nodes

    chapter = _chapter_of(app.env.docname)
    if chapter is None:
        return
    record = RUN_DIR / f"{chapter}.provenance.json"
    if record.exists():
        app.env.note_dependency(str(record))  # an incremental build re-reads the page when the record changes
    claims_file = RUN_DIR / f"{chapter}.claims.json"
    if claims_file.exists():
        app.env.note_dependency(str(claims_file))
        render_claims(doctree, chapter)
    collapse_long_outputs(doctree)
    collapse_plumbing(doctree, _rerun_box(chapter))


def _drop_cdn_scripts(app, pagename, templatename, context, doctree) -> None:
    """Remove sphinx-thebe's scripts (they name a CDN; live code is off): the site references no other host."""
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if "thebe" not in str(getattr(s, "filename", s) or "")
                                   and "THEBE_JS_URL" not in str(getattr(s, "attributes", {}).get("body", ""))]


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
    from rgnb.site import bibstyle

    bibstyle.register()  # the author-year bibliography style _config.yml names (bibtex_default_style)
    # MathJax on every page: claims tables and ledgers rendered as HTML carry math the page's prose may not have
    app.set_html_assets_policy("always")
    app.connect("doctree-read", _add_rerun_box)
    app.connect("html-page-context", _add_py_download, priority=600)
    app.connect("html-page-context", _drop_cdn_scripts, priority=600)
    app.connect("build-finished", _copy_py_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
