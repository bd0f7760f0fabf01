"""Tests of rgnb.site.browser: the headless-browser check (a real Chromium where one is installed), its report and CLI."""

import base64
import json

import pytest

from rgnb import site


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body><article class='bd-article'>{body}</article></body></html>"


def test_request_host_parses_proxy_log_entries():
    assert site.request_host("CONNECT fonts.gstatic.com:443") == "fonts.gstatic.com"
    assert site.request_host("GET http://update.googleapis.com/service?x=1") == "update.googleapis.com"
    assert "fonts.googleapis.com" not in site.BROWSER_INTERNAL_HOSTS


def test_expected_claims_reads_both_schemas(tmp_path):
    (tmp_path / "a.claims.json").write_text(json.dumps([{"claim": "x"}]))
    (tmp_path / "b.claims.json").write_text(json.dumps({"schema": 2, "rows": [{"id": "P2-x"}, {"id": "P2-y"}]}))
    assert site.expected_claims("a", tmp_path) == [{"claim": "x"}]
    assert [r["id"] for r in site.expected_claims("b", tmp_path)] == ["P2-x", "P2-y"]
    assert site.expected_claims("none", tmp_path) == []


def test_book_pages_follow_the_toc():
    pages = site.book_pages()
    assert pages[0] == "book/intro.html" and pages[-1] == "book/appendix.html"
    assert len(pages) == len(set(pages)) >= 9


def test_without_chromium_the_check_says_skipped_never_passes(tmp_path, monkeypatch):
    monkeypatch.delenv("RGNB_CHROMIUM", raising=False)
    monkeypatch.setattr(site.browser, "CHROMIUM_NAMES", ())  # no browser on PATH either
    report = site.check_site(tmp_path)
    assert report.skipped and "Chromium" in report.skipped and report.pages == []
    assert "SKIPPED" in site.format_report(report)
    assert site.main(["--html", str(tmp_path), "--require-browser"]) == 2
    monkeypatch.setenv("RGNB_CHROMIUM", str(tmp_path / "no-such-browser"))  # named but missing: refused
    with pytest.raises(ValueError, match="RGNB_CHROMIUM must be the path of an existing Chromium"):
        site.find_chromium()


@pytest.mark.skipif(site.find_chromium() is None, reason="SKIPPED: no Chromium (apt-get install -y chromium)")
def test_real_browser_typesets_nothing_external_and_catches_a_cdn_script(tmp_path):
    """Two tiny pages in real headless Chromium: one clean with a local image, one that loads from a CDN."""
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "_images").mkdir()
    (html / "_images" / "a.png").write_bytes(PNG)
    (html / "book" / "good.html").write_text(_page(
        "<h1>Good</h1><div class='cell_output'><figure><img src='../_images/a.png'/><figcaption>"
        "<span class='caption-number'>Fig. 1 </span>c</figcaption></figure></div>"
        "<table><tr><td><span id='claim-P3-x'></span>P3: x</td></tr></table>"))
    (html / "book" / "bad.html").write_text(_page(
        "<h1>Bad</h1><p>raw $x$</p><script>document.body.insertAdjacentHTML('beforeend', '<p>added</p>')</script>",
        head='<script src="https://cdn.example.org/lib.js"></script>'))
    run = tmp_path / "run"
    run.mkdir()
    (run / "good.claims.json").write_text(json.dumps({"rows": [{"id": "P3-x"}]}))
    report = site.check_site(html, pages=["book/good.html", "book/bad.html"], run_dir=run,
                             screenshot_dir=tmp_path / "shots")
    good, bad = report.pages
    assert good.problems == [], good.problems
    assert (good.figures, good.images, good.claims_found) == (1, 1, 1)
    assert (tmp_path / "shots" / "good.png").read_bytes()[:8] == PNG[:8]
    joined = "\n".join(bad.problems)
    assert "raw $" in joined
    assert "<script> loads from another host: https://cdn.example.org/lib.js" in joined
    assert "a request left the local site" in joined and "cdn.example.org" in joined


def test_a_browser_that_fails_is_a_problem_not_a_crash(tmp_path):
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "book" / "a.html").write_text(_page("<p>x</p>"))
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    fake.chmod(0o755)
    report = site.check_site(html, pages=["book/a.html", "book/missing.html"], run_dir=tmp_path,
                             screenshot_dir=tmp_path / "shots", chromium=str(fake))
    problems = "\n".join(report.problems)
    assert "book/missing.html: page not built" in problems
    assert "book/a.html: the browser could not render the page" in problems and "broken" in problems
