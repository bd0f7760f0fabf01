"""Tests of rgnb.site.sphinx: the re-run box's commands and the hooks in a small Jupyter Book."""

import json

import pytest

from rgnb import site


def test_rerun_commands_name_the_chapter_and_profile():
    cmds = [c for c in site.rerun_commands("kernel_eft", "reference") if not c.startswith("#")]
    assert cmds == [".venv/bin/python -m rgnb execute --profile reference --chapter kernel_eft",
                    ".venv/bin/python -m rgnb build"]
    assert "_build/runs/full/kernel_eft.ipynb" in site.rerun_commands("kernel_eft", "full")[0]
    assert "_build/runs/reference/_run/" in site.rerun_commands("kernel_eft", "reference")[0]
    assert "not a test of the papers" in site.profile_note("smoke")
    assert "full" in site.profile_note("reference")


def test_sphinx_hooks_in_a_small_jupyter_book(tmp_path):
    """Build a two-page JB1 book with the repository's _config.yml: re-run box, .py download, offline MathJax,
    no CDN script, author-year citation, Markdown output rendered as a table."""
    import shutil as sh
    import subprocess
    import sys
    from pathlib import Path

    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        pytest.skip("SKIPPED: jupyter-book is not installed next to this Python")
    root = site.REPO_ROOT
    book = tmp_path / "b"
    (book / "book").mkdir(parents=True)
    sh.copy(root / "_config.yml", book / "_config.yml")
    sh.copy(root / "references.bib", book / "references.bib")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/appendix\n")
    (book / "book" / "intro.md").write_text("# Intro\n\nAs {cite}`kerneleft2026` show, $x^2$.\n")
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Appendix\n"},
                    {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "t",
                     "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                                  "data": {"text/markdown": "| a | b |\n|---|---|\n| $\\xi$ | 2 |",
                                           "text/plain": "t"}}]},
                    {"cell_type": "markdown", "metadata": {}, "source": "```{bibliography}\n```\n"}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (book / "book" / "appendix.ipynb").write_text(json.dumps(nb))
    env = {**__import__("os").environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = book / "_build" / "html"
    intro = (html / "book" / "intro.html").read_text()
    appendix = (html / "book" / "appendix.html").read_text()
    import re

    text = re.sub(r"<[^>]+>", "", intro)
    assert "rgnb-plumbing" in intro and site.claims.PLUMBING_TITLE in text     # plumbing collapsed at the end
    assert ".venv/bin/python -m rgnb execute --profile reference --chapter intro" in text
    assert 'href="../_sources/book/intro.py"' in intro and (html / "_sources" / "book" / "intro.py").exists()
    assert "Kawase and Ota, 2026" in intro                                   # author-year, real authors
    assert 'src="../_static/mathjax/tex-chtml.js' in intro and (html / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert "unpkg" not in intro and "cdn.jsdelivr" not in intro and "THEBE_JS_URL" not in intro
    assert "<table" in appendix and "|---|" not in appendix                # Markdown output -> a real table
    assert '<span class="math notranslate nohighlight">\\(\\xi\\)</span>' in appendix
    assert "Collective kernel {EFT}" not in appendix and "ResNets" in appendix  # protected capitals
