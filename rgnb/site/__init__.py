"""The rendered site: Sphinx hooks that shape it, and a headless-browser check of what readers see.

- :mod:`~rgnb.site.sphinx`: the Sphinx extension (``_config.yml`` loads ``rgnb.site``, whose
  :func:`setup` is this one): the "Re-run this page" box, the ``.py`` download, no CDN scripts;
- :mod:`~rgnb.site.ledgers`: every stored run's claims rows, per profile (the intro and appendix pages);
- :mod:`~rgnb.site.page`: the check of one page's DOM after its scripts ran (:func:`page_problems`);
- :mod:`~rgnb.site.browser`: headless Chromium over every built page (:func:`check_site`,
  ``python -m rgnb.site``), screenshots and the report;
- :mod:`~rgnb.site.claims`: build-time claims tables from the stored ledger, the plumbing collapsed;
- :mod:`~rgnb.site.measure`: the layout measured in the browser (tables at 390 px, figures, first screen);
- :mod:`~rgnb.site.repository`: the repository address, the clone line, the refusal to publish a placeholder;
- :mod:`~rgnb.site.paths`: where the chapters, the stored run and the built site live.

The names the chapters, the CLI and the tests use are re-exported here.
"""

from rgnb.site.browser import (BROWSER_INTERNAL_HOSTS, CHROMIUM_FLAGS, CHROMIUM_NAMES, SiteReport, book_pages,
                               check_site, expected_claims, find_chromium, format_report, main, render_page,
                               request_host)
from rgnb.site.ledgers import load_ledgers, profile_run_dirs
from rgnb.site.repository import PLACEHOLDER_URL, check_publishable, clone_markdown, is_placeholder, repository_url
from rgnb.site.page import NOT_PROSE, RAW_PATTERNS, PageReport, page_problems
from rgnb.site.paths import BOOK_DIR, HTML_DIR, REPO_ROOT, RUN_DIR, SCREENSHOT_DIR, TOC
from rgnb.site.sphinx import profile_note, rerun_commands, setup, stored_provenance

__all__ = [
    "PLACEHOLDER_URL", "check_publishable", "clone_markdown", "is_placeholder", "repository_url",
    "BOOK_DIR", "BROWSER_INTERNAL_HOSTS", "CHROMIUM_FLAGS", "CHROMIUM_NAMES", "HTML_DIR", "NOT_PROSE", "REPO_ROOT",
    "RAW_PATTERNS", "RUN_DIR", "SCREENSHOT_DIR", "TOC", "PageReport", "SiteReport", "book_pages", "check_site",
    "expected_claims", "find_chromium", "format_report", "load_ledgers", "main", "page_problems", "profile_note",
    "profile_run_dirs", "render_page", "request_host", "rerun_commands", "setup", "stored_provenance",
]
