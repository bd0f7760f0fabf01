"""The whole book as one PDF (``make pdf``, ``python -m rgnb pdf``): a single-page HTML build of the stored book
(Sphinx ``singlehtml``, the same extension and CSS as the site) printed by the headless Chromium the site check
uses. No LaTeX. Chapter numbers, figures and tables come from the HTML; ``@media print`` in ``_static/rgnb.css``
starts each chapter on a new page and drops the site's chrome. The PDF's outline (Chromium's document outline)
is checked to name every chapter with its number, and its page count is reported.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rgnb.site.paths import BOOK_DIR, REPO_ROOT, TOC

SINGLE_DIR = REPO_ROOT / "_build" / "singlehtml"
PDF_PATH = REPO_ROOT / "_build" / "pdf" / "book.pdf"
#: The page printed: the single-page build's root document, copied to the build root so its links resolve.
PRINT_PAGE = "__rgnb_print.html"
#: Fewest pages a whole-book PDF may have (each of the ten pages starts a page; most run to several).
MIN_PAGES = 20
_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")
_TITLE = re.compile(rb"/Title\s*(\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]+>)")


def build_singlehtml(root: Path = REPO_ROOT) -> int:
    """``jupyter-book build --builder singlehtml`` of the stored notebooks (no execution), ``-W -n``."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(root), "--builder", "singlehtml", "-W", "-n",
           "--keep-going"]
    return subprocess.run(cmd, cwd=root).returncode


def _pdf_string(token: bytes) -> str:
    if token.startswith(b"<"):
        raw = bytes.fromhex(re.sub(rb"\s", b"", token[1:-1]).decode())
        return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    body = token[1:-1]
    body = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8) & 255]), body)
    body = re.sub(rb"\\(.)", lambda m: {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)), body)
    return body[2:].decode("utf-16-be") if body.startswith(b"\xfe\xff") else body.decode("latin-1")


def pdf_facts(data: bytes) -> tuple[int, list[str]]:
    """(page count, outline titles) of a PDF as Chromium writes it (page and outline dictionaries uncompressed)."""
    titles = [" ".join(_pdf_string(m).replace("#", " ").split()) for m in _TITLE.findall(data)]
    return len(_PAGE.findall(data)), titles


def chapter_titles(toc: Path = TOC, book_dir: Path = BOOK_DIR) -> list[str]:
    """Every chapter's numbered title as the book prints it (``3. Finding (i): ...``), the intro unnumbered."""
    from rgnb.site.browser import book_pages

    out = []
    for k, page in enumerate(book_pages(toc)):
        src = Path(book_dir).parent / page.replace(".html", ".py")
        m = re.search(r"^# # (.+)$", src.read_text(), re.M) if src.exists() else None
        title = m.group(1).strip() if m else Path(page).stem
        title = re.sub(r"\$([^$]*)\$", r"\1", title)
        out.append(title if k == 0 else f"{k}. {title}")
    return out


def _norm(text: str) -> str:
    text = text.translate(str.maketrans({"\u2019": "'", "\u201c": '"', "\u201d": '"', "\ufeff": ""}))
    return " ".join(text.split())


def title_in_outline(title: str, outline: list[str]) -> bool:
    """Whether an outline entry starts with the title's number and holds every word of it. Chromium's outline
    joins a wrapped heading's lines without a space (and sometimes repeats a line), hence words, not the string."""
    number, _, rest = _norm(title).partition(". ") if re.match(r"\d+\. ", title) else ("", "", _norm(title))
    words = rest.split()
    for entry in outline:
        flat = _norm(entry).replace(" ", "")
        if (not number or flat.startswith(f"{number}.")) and all(w in flat for w in words):
            return True
    return False


def pdf_problems(pdf: Path, titles: list[str], min_pages: int = MIN_PAGES) -> tuple[int, list[str]]:
    """(page count, problems): too few pages, a chapter title (with its number) missing from the PDF's outline."""
    if not Path(pdf).exists():
        return 0, [f"no PDF at {pdf}"]
    pages, outline = pdf_facts(Path(pdf).read_bytes())
    problems = [f"the PDF has {pages} pages (expected >= {min_pages})"] if pages < min_pages else []
    problems += [f"chapter title missing from the PDF: {t!r}" for t in titles if not title_in_outline(t, outline)]
    return pages, problems


def print_pdf(chromium: str, html_dir: Path = SINGLE_DIR, out: Path = PDF_PATH, timeout_s: float = 600.0) -> Path:
    """Print the single-page build with headless Chromium (a local server; no request leaves it) to ``out``."""
    from rgnb.site.browser import CHROMIUM_FLAGS, _BlockingProxy, _QuietHandler, _serve

    html_dir = Path(html_dir)
    start = html_dir / "book" / "intro.html"
    if not start.exists():
        raise FileNotFoundError(f"no single-page build at {start}: run the singlehtml build first")
    shutil.copyfile(start, html_dir / PRINT_PAGE)  # its links are relative to the build root
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _serve(_QuietHandler, html_dir) as (base, _), _serve(_BlockingProxy) as (proxy, _ext), \
            tempfile.TemporaryDirectory(prefix="rgnb-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--proxy-server={proxy}",
               "--virtual-time-budget=60000", "--no-pdf-header-footer", "--generate-pdf-document-outline",
               f"--print-to-pdf={out}", f"{base}/{PRINT_PAGE}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if not out.exists():
        raise RuntimeError(f"chromium wrote no PDF (exit {proc.returncode}): {proc.stderr[-800:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m rgnb pdf [--no-build]``: single-page build, print, check; exit 1 on a problem, 2 without Chromium."""
    import argparse

    from rgnb.site.browser import find_chromium

    parser = argparse.ArgumentParser(prog="python -m rgnb pdf", description=main.__doc__)
    parser.add_argument("--no-build", action="store_true", help="print the existing _build/singlehtml")
    parser.add_argument("--out", type=Path, default=PDF_PATH)
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("[rgnb] pdf: no Chromium (Debian: apt-get install -y chromium; or set RGNB_CHROMIUM)", file=sys.stderr)
        return 2
    if not args.no_build and build_singlehtml() != 0:
        print("[rgnb] pdf: the single-page build failed", file=sys.stderr)
        return 1
    pdf = print_pdf(chromium, out=args.out)
    pages, problems = pdf_problems(pdf, chapter_titles())
    for p in problems:
        print(f"[rgnb] pdf problem: {p}", file=sys.stderr)
    print(f"[rgnb] pdf: {pdf} ({pages} pages, {len(problems)} problems)")
    return 1 if problems else 0


__all__ = ["MIN_PAGES", "PDF_PATH", "SINGLE_DIR", "build_singlehtml", "chapter_titles", "main", "pdf_facts",
           "pdf_problems", "print_pdf", "title_in_outline"]
