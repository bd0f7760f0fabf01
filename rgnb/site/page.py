"""The check of one rendered page's DOM: what a reader must see (tables, math, figures, claims rows) and
must not see (raw Markdown and TeX, error output, broken links, requests to another host)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from rgnb.site.paths import HTML_DIR


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
    layout: dict = dataclasses.field(default_factory=dict)  # rgnb.site.measure counts: {"desktop": {...}, "phone": {...}}


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
    if "+dirty" in text:
        problems.append("a revision ending in +dirty is shown (store runs from a clean tree)")
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
