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

import dataclasses
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = REPO_ROOT / "book"
RUN_DIR = BOOK_DIR / "_run"

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


# ------------------------------------------------------------------------------------- ledger pages


def profile_run_dirs() -> dict[str, Path]:
    """Where each scale's stored run lives: ``reference`` in ``book/_run``, ``full`` in ``book/_run/full``.

    While a chapter executes with ``RGNB_RUN_DIR`` set (papermill, nbval's temp copy), that directory
    stands for the current profile's run.
    """
    from rgnb.environment import read

    dirs = {"reference": RUN_DIR, "full": RUN_DIR / "full"}
    current = read().run_dir
    if current:  # the run being executed stands for its profile; the other profile's run stays the stored one
        dirs["full" if Path(current).name == "full" else "reference"] = Path(current)
    return dirs


def load_ledgers(run_dirs: dict[str, Path] | None = None) -> tuple[dict[str, list], list[str]]:
    """Every stored run's claims rows, keyed by the profile the rows were computed at, and notes.

    Reads each directory through ``rgnb.claims.load_ledger``; chapters whose claims file is still
    the legacy schema (not yet re-executed) are left out and named in the notes, never guessed.
    A directory labelled ``reference`` that holds ``smoke`` rows is shown as ``smoke``.
    """
    from rgnb import claims

    run_dirs = profile_run_dirs() if run_dirs is None else run_dirs
    ledgers: dict[str, list] = {}
    notes: list[str] = []
    for label, directory in run_dirs.items():
        directory = Path(directory)
        files = sorted(directory.glob("*.claims.json")) if directory.is_dir() else []
        if not files:
            notes.append(f"No `{label}` run is stored (`{_shown(directory)}` holds no claims).")
            continue
        legacy = []
        with tempfile.TemporaryDirectory(prefix="rgnb-ledger-") as tmp:
            for f in files:
                data = json.loads(f.read_text())
                if isinstance(data, dict) and data.get("schema") == claims.SCHEMA:
                    shutil.copyfile(f, Path(tmp) / f.name)
                else:
                    legacy.append(f.name.removesuffix(".claims.json"))
            rows = claims.load_ledger(tmp)
        if legacy:
            notes.append(f"In `{_shown(directory)}`, chapter(s) {', '.join(legacy)} still hold claims of the "
                         f"old format: re-execute them to see their rows here.")
        for row in rows:
            ledgers.setdefault(row.profile, []).append(row)
    return ledgers, notes


def _shown(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------- Sphinx


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
        para += nodes.Text("The outputs below were computed at profile ")
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
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next((c for c in section.children if isinstance(c, nodes.title)), None)
    index = section.index(title) + 1 if title is not None else 0
    section.insert(index, _rerun_box(chapter))


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
    app.connect("doctree-read", _add_rerun_box)
    app.connect("html-page-context", _add_py_download, priority=600)
    app.connect("html-page-context", _drop_cdn_scripts, priority=600)
    app.connect("build-finished", _copy_py_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# -------------------------------------------------------------------------------------------- browser

HTML_DIR = REPO_ROOT / "_build" / "html"
SCREENSHOT_DIR = REPO_ROOT / "_build" / "screenshots"
TOC = REPO_ROOT / "_toc.yml"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Headless flags: no sandbox (containers, root), no GPU, and no background traffic of the browser's own.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--no-pings", "--disable-breakpad",
    "--disable-client-side-phishing-detection", "--metrics-recording-only", "--password-store=basic",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
)
#: Browser window: the width the book's legibility bar is set at (rgnb.plots.PAGE_WIDTH_PX), and a tall screenshot.
WINDOW = (1280, 3200)
#: Virtual time (ms) the page's scripts get before the DOM is dumped: MathJax typesets well within it.
VIRTUAL_TIME_MS = 20000
#: Exact host names Chromium itself contacts (updates, time, sign-in) even with the flags above; a page's own
#: request to any other host (fonts.googleapis.com, a CDN, ...) is a problem.
BROWSER_INTERNAL_HOSTS = frozenset({
    "update.googleapis.com", "clients2.google.com", "clients1.google.com", "accounts.google.com",
    "clientservices.googleapis.com", "content-autofill.googleapis.com", "optimizationguide-pa.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com", "redirector.gvt1.com", "edgedl.me.gvt1.com", "www.googleapis.com",
    "android.clients.google.com", "safebrowsing.googleapis.com",
})
#: Text a reader must never see in prose or outputs: Markdown table rules, raw TeX delimiters, MyST roles.
RAW_PATTERNS = {
    "Markdown table rule |---": re.compile(r"\|\s*:?-{3,}"),
    "raw $ (untypeset math)": re.compile(r"\$"),
    "raw \\( or \\[ (untypeset math)": re.compile(r"\\[(\[]"),
    "raw MyST role ({cite}, {numref}, ...)": re.compile(r"\{(cite|numref|ref|eq|doc|prf:ref)(:[a-z]+)?\}"),
}
#: Elements whose text is code or machinery, not prose: excluded from the raw-text check.
NOT_PROSE = ("script", "style", "pre", "code", "kbd", "samp", "textarea", "mjx-container", "noscript", "template")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"<svg", b"<?xml", b"RIFF")
_RESOURCE_ATTRS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src",
                   "embed": "src", "object": "data", "track": "src"}
_LOADING_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "manifest", "prefetch"}
_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(https?:)?//([^/'")\s]+)""", re.I)


@dataclasses.dataclass
class PageReport:
    """What the browser showed for one page: counts, problems, the screenshot and the time it took."""

    page: str
    tables: int = 0
    figures: int = 0
    formulas: int = 0
    images: int = 0
    claims_found: int = 0
    claims_expected: int = 0
    problems: list = dataclasses.field(default_factory=list)
    wall_s: float = 0.0
    screenshot: str = ""
    browser_internal: int = 0  # requests Chromium made on its own (updates, time), refused and not counted


@dataclasses.dataclass
class SiteReport:
    """The browser check of the whole site. ``skipped`` holds why it did not run (never a silent pass)."""

    pages: list
    skipped: str = ""
    wall_s: float = 0.0

    @property
    def problems(self) -> list[str]:
        return [f"{p.page}: {msg}" for p in self.pages for msg in p.problems]


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary (``$RGNB_CHROMIUM`` wins: :mod:`rgnb.environment` refuses a missing one), or None."""
    from rgnb.environment import read

    explicit = read().chromium
    if explicit:
        return str(explicit)
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def book_pages(toc: Path = TOC) -> list[str]:
    """The HTML pages of the book, in ``_toc.yml`` order, relative to the HTML root (``book/intro.html``, ...)."""
    import yaml

    data = yaml.safe_load(Path(toc).read_text())
    entries = [data["root"]]
    for part in data.get("parts", [data]):
        entries += [c["file"] for c in part.get("chapters", [])]
    return [f"{e}.html" for e in entries]


def expected_claims(chapter: str, run_dir: Path = RUN_DIR) -> list[dict]:
    """The claims rows a chapter's stored run recorded (``<run dir>/<chapter>.claims.json``; rows or ``{"rows": [...]}``)."""
    path = Path(run_dir) / f"{chapter}.claims.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    rows = data.get("rows", []) if isinstance(data, dict) else data
    return [r for r in rows if isinstance(r, dict)]


_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u00a0": " ", "\u2026": "..."})


def _normalise(text: str) -> str:
    """Text as compared: smart quotes, dashes, ellipses and runs of white space made plain."""
    return " ".join(text.translate(_TYPOGRAPHY).split())


def _claim_key(row: dict) -> str:
    """How a claims row is found in the rendered table: the anchor ``rgnb.claims.anchor(id)`` (schema 3),
    else (legacy rows) the claim's text up to its first markup."""
    if row.get("id"):
        from rgnb.claims import anchor

        return anchor(str(row["id"]))
    text = str(row.get("claim", ""))
    return _normalise(re.split(r"[$\\`*_]", text)[0])[:60].strip()


def _visible_text(node, skip=NOT_PROSE) -> list[str]:
    from bs4 import NavigableString, Tag

    out = []
    for child in node.children:
        if isinstance(child, Tag):
            if child.name in skip or "mjx-assistive-mml" == child.name:
                continue
            out += _visible_text(child, skip)
        elif isinstance(child, NavigableString) and type(child).__name__ == "NavigableString":
            out.append(str(child))
    return out


_ID_ATTR = re.compile(r"""\bid=["']([^"']+)["']""")


def _ids_of(path: Path) -> set[str]:
    """Element ids of a built HTML file (static: what a link's #fragment can reach)."""
    return set(_ID_ATTR.findall(Path(path).read_text(errors="replace")))


def _is_image_file(path: Path) -> bool:
    try:
        head = path.read_bytes()[:64].lstrip()
    except OSError:
        return False
    return any(head.startswith(m) for m in _IMAGE_MAGIC)


def page_problems(dom: str, page: str, html_dir: Path = HTML_DIR, claims: list[dict] | None = None,
                  local_requests: list[tuple[str, int]] | None = None, external_requests: list[str] | None = None,
                  console: list[str] | None = None, css_hosts: dict | None = None, base_url: str = "",
                  strict_figures: bool = True) -> PageReport:
    """Check one page's DOM *after its scripts ran* and count what a reader sees.

    dom: the serialized DOM (``chromium --dump-dom``); page: its path under ``html_dir``; claims: rows the
    page must show inside a ``<table>``; local_requests: ``(path, status)`` the local server answered while the
    page loaded; external_requests: requests that reached the blocking proxy (another host); console: browser
    console lines; css_hosts: ``{css path: [other hosts its url()s name]}``; base_url: where the page was served.
    """
    from bs4 import BeautifulSoup

    report = PageReport(page=page)
    soup = BeautifulSoup(dom, "html.parser")
    article = soup.find("article") or soup.body or soup
    report.tables = len(article.find_all("table"))
    figures = article.find_all("figure")
    report.figures = sum(1 for f in figures if f.select_one(".caption-number") and f.find("figcaption"))
    report.formulas = len(article.find_all("mjx-container"))
    problems = report.problems

    # 1. raw text in prose and outputs (whole body: headings, tables, captions, the page's table of contents)
    text = " ".join(_visible_text(soup.body or soup))
    for what, pattern in RAW_PATTERNS.items():
        hits = [m for m in pattern.finditer(text)]
        if hits:
            m = hits[0]
            problems.append(f"{what}: {len(hits)} x, e.g. '...{text[max(0, m.start() - 40):m.end() + 40].strip()}...'")
    for pre in article.select(".cell_output pre"):
        body = pre.get_text()
        if RAW_PATTERNS["Markdown table rule |---"].search(body):
            problems.append("a Markdown table printed as plain text in an output")
            break
    if article.find("mjx-merror") is not None:
        problems.append(f"{len(article.find_all('mjx-merror'))} MathJax TeX error(s)")

    # figures: every image a cell outputs sits in a numbered, captioned <figure>
    loose = [img for img in article.select(".cell_output img")
             if not (img.find_parent("figure") and img.find_parent("figure").select_one(".caption-number"))]
    if loose and strict_figures:
        problems.append(f"{len(loose)} output image(s) without a numbered caption (see FIGURES.md: "
                        f"mystnb figure metadata on the cell)")

    # 2. error output
    errors = article.select(".output.traceback, .output.error, .output.stderr, .stderr")
    if errors:
        problems.append(f"{len(errors)} error/stderr output(s), e.g. '{errors[0].get_text()[:120].strip()}'")
    if "Traceback (most recent call last)" in article.get_text():
        problems.append("a Python traceback is shown")
    for line in console or []:
        if "Uncaught" in line or "Failed to load resource" in line:
            problems.append(f"browser console: {line.strip()[:200]}")

    # 3. images exist, are images, and loaded
    served = {unquote(urlsplit(p).path).lstrip("/"): status for p, status in (local_requests or [])}
    page_dir = (Path(html_dir) / page).parent
    imgs = article.find_all("img")
    report.images = len(imgs)
    for img in imgs:
        src = img.get("src", "")
        if src.startswith("data:"):
            if len(src) < 40:
                problems.append("an empty inline image")
            continue
        if urlsplit(src).scheme in ("http", "https"):
            continue  # reported below as an external resource
        target = (page_dir / unquote(urlsplit(src).path)).resolve()
        rel = target.relative_to(Path(html_dir).resolve()).as_posix() if target.is_relative_to(Path(html_dir).resolve()) else str(target)
        if not target.exists():
            problems.append(f"<img> file missing: {src}")
        elif not _is_image_file(target):
            problems.append(f"<img> is not an image file: {src}")
        elif local_requests is not None and served.get(rel, 200) >= 400:
            problems.append(f"<img> failed to load (HTTP {served[rel]}): {src}")
    for path, status in local_requests or []:
        clean = unquote(urlsplit(path).path)
        if status >= 400 and not clean.endswith("favicon.ico"):
            problems.append(f"a local resource is missing (HTTP {status}): {clean}")

    # links inside the site (the verdict dashboard's links to claims rows included) reach their target
    for a in (soup.body or soup).find_all("a", href=True):
        href = a["href"]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
            continue
        target = (page_dir / unquote(parts.path)).resolve() if parts.path else (Path(html_dir) / page).resolve()
        if not target.exists():
            problems.append(f"broken link: {href} (no {parts.path})")
        elif parts.fragment and target.suffix == ".html" and parts.fragment not in _ids_of(target):
            problems.append(f"broken link: {href} (no id {parts.fragment!r} in {parts.path or page})")

    # 4. nothing leaves the local site
    local_host = urlsplit(base_url).netloc
    for tag in soup.find_all(list(_RESOURCE_ATTRS) + ["link"]):
        if tag.name == "link":
            rels = set(tag.get("rel") or [])
            if not rels & _LOADING_RELS:
                continue
            url = tag.get("href", "")
        else:
            url = tag.get(_RESOURCE_ATTRS[tag.name], "")
        parts = urlsplit(urljoin(base_url or "http://local.invalid/", url or ""))
        if url and parts.scheme in ("http", "https", "") and url.startswith(("http:", "https:", "//")) \
                and parts.netloc != local_host:
            problems.append(f"<{tag.name}> loads from another host: {url}")
    for css, hosts in (css_hosts or {}).items():
        for host in hosts:
            problems.append(f"stylesheet {css} loads from another host: {host}")
    for req in external_requests or []:
        problems.append(f"a request left the local site: {req}")

    # 5. claims tables
    claims = claims or []
    report.claims_expected = len(claims)
    tables = article.find_all("table")
    tables_text = [_normalise(t.get_text(" ")) for t in tables]
    tables_ids = [{str(e.get("id")) for e in t.find_all(id=True)} for t in tables]
    for row in claims:
        key = _claim_key(row)
        found = any(key in ids for ids in tables_ids) if row.get("id") else any(key in t for t in tables_text)
        if key and found:
            report.claims_found += 1
        else:
            problems.append(f"claims row not shown in a <table>: {key!r}")
    return report


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    log: list = []

    def log_message(self, *args):  # noqa: D401 - silence the default stderr log
        pass

    def log_request(self, code="-", size="-"):
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = 0
        self.log.append((self.path, code))


class _BlockingProxy(http.server.BaseHTTPRequestHandler):
    """Every request that reaches it came from the browser and was meant for another host: record it, refuse it."""

    log: list = []

    def _refuse(self):
        self.log.append(f"{self.command} {self.path}")
        self.send_error(403, "rgnb site check: no request may leave the local site")

    do_GET = do_POST = do_HEAD = do_CONNECT = do_PUT = do_OPTIONS = _refuse

    def log_message(self, *args):
        pass


@contextmanager
def _serve(handler, directory: Path | None = None):
    import functools

    log: list = []
    cls = type(handler.__name__, (handler,), {"log": log})
    factory = functools.partial(cls, directory=str(directory)) if directory is not None else cls
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def request_host(entry: str) -> str:
    """Host of a proxy log entry: ``"CONNECT host:443"`` or ``"GET http://host/path"``."""
    target = entry.split(" ", 1)[-1]
    return urlsplit(target if "//" in target else "//" + target).hostname or ""


def _external_css_hosts(html_dir: Path) -> dict:
    out = {}
    for css in Path(html_dir).rglob("*.css"):
        hosts = sorted({m.group(2) for m in _CSS_URL.finditer(css.read_text(errors="replace"))})
        if hosts:
            out[css.relative_to(html_dir).as_posix()] = hosts
    return out


def render_page(chromium: str, url: str, screenshot: Path, proxy: str, timeout_s: float = 120.0):
    """Load ``url`` in headless Chromium; returns ``(dom, console lines)`` and writes ``screenshot`` (PNG)."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rgnb-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--proxy-server={proxy}",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
               f"--screenshot={screenshot}", "--dump-dom", url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0 and not proc.stdout:
        raise RuntimeError(f"chromium failed on {url} (exit {proc.returncode}): {proc.stderr[-800:]}")
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


def check_site(html_dir: Path = HTML_DIR, pages: list[str] | None = None, run_dir: Path = RUN_DIR,
               screenshot_dir: Path = SCREENSHOT_DIR, chromium: str | None = None,
               strict_figures: bool = True) -> SiteReport:
    """Open every page in headless Chromium, save screenshots, and check what a reader sees.

    Returns a :class:`SiteReport`; ``report.skipped`` says why nothing ran (no Chromium, no built site).
    """
    t0 = time.perf_counter()
    html_dir = Path(html_dir)
    chromium = chromium or find_chromium()
    if chromium is None:
        return SiteReport([], skipped="no Chromium found (Debian: apt-get install -y chromium; or set RGNB_CHROMIUM)")
    pages = book_pages() if pages is None else pages
    missing = [p for p in pages if not (html_dir / p).exists()]
    reports = [PageReport(page=p, problems=["page not built"]) for p in missing]
    css_hosts = _external_css_hosts(html_dir)
    with _serve(_QuietHandler, html_dir) as (base, local_log), \
            _serve(_BlockingProxy) as (proxy, external_log):
        for page in pages:
            if page in missing:
                continue
            t_page = time.perf_counter()
            local_log.clear()
            external_log.clear()
            shot = Path(screenshot_dir) / f"{Path(page).stem}.png"
            try:
                dom, console = render_page(chromium, f"{base}/{page}", shot, proxy)
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                reports.append(PageReport(page=page, problems=[f"the browser could not render the page: {exc}"],
                                          wall_s=time.perf_counter() - t_page))
                continue
            time.sleep(0.2)  # let the servers finish logging the last requests
            external = [r for r in external_log if request_host(r) not in BROWSER_INTERNAL_HOSTS]
            internal = len(external_log) - len(external)
            report = page_problems(dom, page, html_dir, expected_claims(Path(page).stem, run_dir),
                                   list(local_log), external, console, css_hosts, base_url=f"{base}/{page}",
                                   strict_figures=strict_figures)
            report.wall_s = time.perf_counter() - t_page
            report.screenshot = str(shot)
            report.browser_internal = internal
            if not shot.exists():
                report.problems.append("no screenshot was written")
            reports.append(report)
    return SiteReport(reports, wall_s=time.perf_counter() - t0)


def format_report(report: SiteReport) -> str:
    """A Markdown table of the per-page counts, then every problem."""
    if report.skipped:
        return f"browser check SKIPPED: {report.skipped}"
    lines = ["| page | tables | figures | formulas | images | claims rows in tables | problems | s |",
             "|---|---|---|---|---|---|---|---|"]
    for p in report.pages:
        lines.append(f"| {p.page} | {p.tables} | {p.figures} | {p.formulas} | {p.images} | "
                     f"{p.claims_found}/{p.claims_expected} | {len(p.problems)} | {p.wall_s:.1f} |")
    internal = sum(p.browser_internal for p in report.pages)
    lines.append(f"\nbrowser check: {len(report.pages)} pages, {len(report.problems)} problems, {report.wall_s:.1f} s "
                 f"(screenshots in {Path(report.pages[0].screenshot).parent if report.pages and report.pages[0].screenshot else '-'}; "
                 f"{internal} requests of Chromium's own to its vendor refused and ignored)")
    lines += [f"  problem: {msg}" for msg in report.problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m rgnb.site [--require-browser] [--html DIR]``: exit 1 on any problem, 2 when a required browser is missing."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rgnb.site", description=main.__doc__)
    parser.add_argument("--html", type=Path, default=HTML_DIR, help="built site (default _build/html)")
    parser.add_argument("--screenshots", type=Path, default=SCREENSHOT_DIR)
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR,
                        help="run whose claims rows every chapter page must show (default book/_run)")
    parser.add_argument("--page", action="append", help="a page under the HTML root (repeatable); default: every book page")
    parser.add_argument("--allow-uncaptioned", action="store_true",
                        help="do not fail on output images outside a numbered figure (transition only)")
    parser.add_argument("--require-browser", action="store_true", help="fail (exit 2) instead of skipping without Chromium")
    args = parser.parse_args(argv)
    report = check_site(args.html, pages=args.page, run_dir=args.run_dir, screenshot_dir=args.screenshots,
                        strict_figures=not args.allow_uncaptioned)
    print(format_report(report), file=sys.stderr if report.problems else sys.stdout)
    if report.skipped:
        return 2 if args.require_browser else 0
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
