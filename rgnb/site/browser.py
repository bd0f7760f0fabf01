"""The headless-browser check of the built site (``python -m rgnb.site``).

Opens every built page in headless Chromium after its scripts ran (MathJax included), behind a
proxy that refuses and records every request to another host, saves a screenshot per page and
checks each page's DOM (:func:`rgnb.site.page.page_problems`).
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
from urllib.parse import urlsplit

from rgnb.site.measure import DESKTOP_WIDTH, FRAME_PATH, PHONE_WIDTH, frame_html, layout_problems, parse_measure
from rgnb.site.page import PageReport, page_problems
from rgnb.site.paths import HTML_DIR, RUN_DIR, SCREENSHOT_DIR, TOC


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


_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(https?:)?//([^/'")\s]+)""", re.I)


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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site, and at :data:`FRAME_PATH` the phone-width frame page of ``?page=``."""

    log: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        from urllib.parse import parse_qs

        parts = urlsplit(self.path)
        if parts.path != FRAME_PATH:
            return super().do_GET()
        query = parse_qs(parts.query)
        body = frame_html(query.get("page", ["index.html"])[0], PHONE_WIDTH, WINDOW[1]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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


class _Server(http.server.ThreadingHTTPServer):
    """The local server; a browser that closes a connection early (it quit after dumping the DOM) is no error."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@contextmanager
def _serve(handler, directory: Path | None = None):
    import functools

    log: list = []
    cls = type(handler.__name__, (handler,), {"log": log})
    factory = functools.partial(cls, directory=str(directory)) if directory is not None else cls
    server = _Server(("127.0.0.1", 0), factory)
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


def render_page(chromium: str, url: str, screenshot: Path, proxy: str, timeout_s: float = 120.0,
                window: tuple[int, int] = WINDOW):
    """Load ``url`` in headless Chromium; returns ``(dom, console lines)`` and writes ``screenshot`` (PNG)."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rgnb-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--proxy-server={proxy}",
               f"--window-size={window[0]},{window[1]}", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
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

    Where the site ships ``_static/rgnb.js``, each page's layout is also measured at 1280 px and, through a
    frame, at 390 px (:mod:`rgnb.site.measure`): tables against their containers, the verdict column, the
    figures' text size, the intro's first screen; a second screenshot ``<page>-390.png`` shows the phone view.
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
    measured = (html_dir / "_static" / "rgnb.js").exists()
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
                dom, console = render_page(chromium, f"{base}/{page}?rgnb-measure", shot, proxy)
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
            if measured:  # the site ships rgnb.js: its layout at both widths is checked
                is_intro = Path(page).stem == "intro"
                layout, counts = layout_problems(parse_measure(dom), DESKTOP_WIDTH, page, intro=is_intro)
                narrow, narrow_counts = _phone_layout(chromium, base, page, proxy, Path(screenshot_dir))
                report.problems += layout + narrow
                report.layout = {"desktop": counts, "phone": narrow_counts}
            report.wall_s = time.perf_counter() - t_page
            report.screenshot = str(shot)
            report.browser_internal = internal
            if not shot.exists():
                report.problems.append("no screenshot was written")
            reports.append(report)
    return SiteReport(reports, wall_s=time.perf_counter() - t0)


def _phone_layout(chromium: str, base: str, page: str, proxy: str, screenshot_dir: Path) -> tuple[list, dict]:
    """The page at :data:`PHONE_WIDTH` px (through the frame page): layout problems, counts, a screenshot
    ``<page>-390.png`` cropped to the phone's width."""
    from urllib.parse import quote

    shot = screenshot_dir / f"{Path(page).stem}-{PHONE_WIDTH}.png"
    try:
        dom, _ = render_page(chromium, f"{base}{FRAME_PATH}?page={quote(page)}", shot, proxy,
                             window=(max(PHONE_WIDTH, 500), WINDOW[1]))
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        return [f"the browser could not render the page at {PHONE_WIDTH} px: {exc}"], {}
    try:
        from PIL import Image

        with Image.open(shot) as im:
            im.crop((0, 0, PHONE_WIDTH, im.size[1])).save(shot)
    except (ImportError, OSError):
        pass
    return layout_problems(parse_measure(dom), PHONE_WIDTH, page)


def format_report(report: SiteReport) -> str:
    """A Markdown table of the per-page counts, then every problem."""
    if report.skipped:
        return f"browser check SKIPPED: {report.skipped}"
    lines = ["| page | tables | figures | formulas | images | claims rows in tables | tables fitting at 390 px | "
             "figure text px (1280 / 390) | problems | s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for p in report.pages:
        phone, desk = p.layout.get("phone", {}), p.layout.get("desktop", {})
        fit = f"{phone['tables'] - phone['wide_tables']}/{phone['tables']}" if phone else "-"
        fig = f"{desk.get('min_figure_text_px') or '-'} / {phone.get('min_figure_text_px') or '-'}"
        lines.append(f"| {p.page} | {p.tables} | {p.figures} | {p.formulas} | {p.images} | "
                     f"{p.claims_found}/{p.claims_expected} | {fit} | {fig} | {len(p.problems)} | {p.wall_s:.1f} |")
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
