"""Where the site's inputs and outputs live: the chapters, the stored run, the built HTML, the screenshots."""

from __future__ import annotations

from rgnb.layout import REPO_ROOT, TOC

BOOK_DIR = REPO_ROOT / "book"
RUN_DIR = BOOK_DIR / "_run"
HTML_DIR = REPO_ROOT / "_build" / "html"
SCREENSHOT_DIR = REPO_ROOT / "_build" / "screenshots"

__all__ = ["BOOK_DIR", "HTML_DIR", "REPO_ROOT", "RUN_DIR", "SCREENSHOT_DIR", "TOC"]
