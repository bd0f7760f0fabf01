"""The static scan of the built pages (no browser): every chapter's page exists, has a figure (unless it
is text only), shows its provenance banner and no error output (a traceback, stderr, an exception name
inside a cell's output). The browser check (:mod:`rgnb.site.browser`) looks at the rendered pages."""

from __future__ import annotations

import re
from pathlib import Path

from rgnb.layout import TOC, chapters
from rgnb.site.paths import HTML_DIR

#: Chapters that are text and tables only (the ledger readers): no figure is required of them.
TEXT_ONLY = frozenset({"intro", "appendix"})

_ERROR_MARKERS = ("Traceback (most recent call last)", 'class="output traceback', 'class="output error',
                  "output stderr", "ipythontb", "PapermillExecutionError")
#: An exception name shown inside a cell's output (``ValueError: ...``, ``NameError``, ...).
_EXCEPTION = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b")
_OUTPUT_BLOCK = re.compile(r'<div class="cell_output[^"]*">(.*?)(?=<div class="cell[ "]|</section>|$)', re.S)


def error_outputs(html: str) -> list[str]:
    """Signs of error output in a rendered page: traceback/stderr markers, exception names in cell outputs."""
    found = [m for m in _ERROR_MARKERS if m in html]
    for block in _OUTPUT_BLOCK.findall(html):
        found += sorted({m.group(0) for m in _EXCEPTION.finditer(re.sub(r"<[^>]+>", " ", block))})
    return found


def check_built_pages(html_dir: Path = HTML_DIR, toc: Path = TOC) -> list[str]:
    """Problems with the built site: missing pages, chapters without figures, any error output shown."""
    problems = []
    for name in chapters(toc):
        page = Path(html_dir) / "book" / f"{name}.html"
        if not page.exists():
            problems.append(f"{name}: page {page} is missing")
            continue
        html = page.read_text(errors="replace")
        if name not in TEXT_ONLY and not re.search(r"<img[^>]+src=\"[^\"]+\.(png|svg)\"", html):
            problems.append(f"{name}: no figure on the page")
        problems += [f"{name}: shows error output ({m!r})" for m in error_outputs(html)]
        if "Executed</strong>" not in html:
            problems.append(f"{name}: no provenance banner")
    return problems
