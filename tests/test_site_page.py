"""Tests of rgnb.site.page: the DOM rules of one rendered page, on synthetic pages."""

import base64

import pytest

from rgnb import site


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body><article class='bd-article'>{body}</article></body></html>"


GOOD = _page("""
<h1>Chapter</h1><p>Text with <mjx-container class="MathJax">x</mjx-container> and a price in <code>$HOME</code>.</p>
<pre>echo $PWD | grep x</pre>
<div class="cell_output"><figure id="fig-a"><img src="../_images/a.png"/>
<figcaption><p><span class="caption-number">Fig. 1.1 </span>A curve.</p></figcaption></figure></div>
<div class="cell_output"><table><tr><td><span id="claim-P1-i-monotone"></span><b>P1</b>: falls</td><td>reproduced</td></tr>
<tr><td>The sampler’s slow mode is</td><td><mjx-container>y</mjx-container></td></tr></table></div>
""")


@pytest.fixture()
def html_dir(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "a.png").write_bytes(PNG)
    (tmp_path / "_images" / "fake.png").write_text("not an image")
    return tmp_path


def test_a_good_page_has_no_problems_and_is_counted(html_dir):
    claims = [{"id": "P1-i-monotone"}, {"claim": "The sampler's slow mode is $\\lambda_2^k$"}]
    r = site.page_problems(GOOD, "book/ch.html", html_dir, claims, local_requests=[("/_images/a.png", 200)])
    assert r.problems == []
    assert (r.tables, r.figures, r.formulas, r.images) == (1, 1, 2, 1)
    assert (r.claims_found, r.claims_expected) == (2, 2)


@pytest.mark.parametrize("body, expected", [
    ("<p>| a | b | |---|---| | 1 | 2 |</p>", "Markdown table rule"),
    ("<p>the rate $\\lambda_2^k$ stays raw</p>", "raw $"),
    ("<p>heading \\(x\\) untypeset</p>", "raw \\("),
    ("<p>as shown in {cite}`rankcollapse2026`</p>", "raw MyST role"),
    ("<p>see {numref}`fig-x`</p>", "raw MyST role"),
    ("<div class='cell_output'><pre>| a |\n|---|\n| 1 |</pre></div>", "printed as plain text"),
    ("<div class='cell_output'><div class='output stderr'><pre>Warning: x</pre></div></div>", "error/stderr"),
    ("<div class='output traceback'><pre>ValueError</pre></div>", "error/stderr"),
    ("<p>x</p><mjx-container><mjx-merror>bad</mjx-merror></mjx-container>", "MathJax TeX error"),
    ("<div class='cell_output'><img src='../_images/a.png'/></div>", "without a numbered caption"),
    ("<img src='../_images/missing.png'/>", "file missing"),
    ("<img src='../_images/fake.png'/>", "not an image file"),
    ("<img src='https://cdn.example.org/a.png'/>", "loads from another host"),
])
def test_each_rule_catches_what_a_reader_must_not_see(html_dir, body, expected):
    r = site.page_problems(_page(body), "book/ch.html", html_dir)
    assert any(expected in p for p in r.problems), r.problems


def test_external_scripts_styles_and_requests_are_problems_but_links_are_not(html_dir):
    head = ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
            '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato"/>'
            '<link rel="canonical" href="https://example.org/book/ch.html"/>'
            '<script src="../_static/local.js"></script>')
    dom = _page('<p><a href="https://arxiv.org/abs/2606.10324">the paper</a></p>', head)
    r = site.page_problems(dom, "book/ch.html", html_dir, base_url="http://127.0.0.1:1234/book/ch.html",
                           external_requests=["CONNECT fonts.gstatic.com:443"],
                           css_hosts={"_static/theme.css": ["fonts.googleapis.com"]})
    joined = "\n".join(r.problems)
    assert "cdn.jsdelivr.net" in joined and "fonts.googleapis.com/css" in joined
    assert "stylesheet _static/theme.css loads from another host: fonts.googleapis.com" in joined
    assert "a request left the local site: CONNECT fonts.gstatic.com:443" in joined
    assert "arxiv" not in joined and "example.org" not in joined and "local.js" not in joined
    assert len(r.problems) == 4


def test_failed_local_loads_and_console_errors_are_problems(html_dir):
    dom = _page("<div class='cell_output'><figure><img src='../_images/a.png'/><figcaption>"
                "<span class='caption-number'>Fig. 1 </span>c</figcaption></figure></div>")
    r = site.page_problems(dom, "book/ch.html", html_dir,
                           local_requests=[("/_images/a.png", 404), ("/_static/x.js", 404), ("/favicon.ico", 404)],
                           console=['[1:1:INFO:CONSOLE:3] "Uncaught ReferenceError: f is not defined", source: x'])
    joined = "\n".join(r.problems)
    assert "failed to load (HTTP 404)" in joined and "/_static/x.js" in joined
    assert "favicon" not in joined and "Uncaught ReferenceError" in joined


def test_links_to_missing_pages_or_anchors_are_problems(html_dir):
    (html_dir / "book" / "other.html").write_text('<p><span id="claim-P2-x"></span></p>')
    dom = _page('<p><a href="other.html#claim-P2-x">ok</a> <a href="#fig-a">self</a> <a href="https://arxiv.org">ext</a>'
                ' <a href="other.html#claim-P2-gone">stale</a> <a href="nowhere.html">missing</a></p><p id="fig-a"></p>')
    (html_dir / "book" / "ch.html").write_text(dom)
    r = site.page_problems(dom, "book/ch.html", html_dir)
    assert sorted(r.problems) == ["broken link: nowhere.html (no nowhere.html)",
                                  "broken link: other.html#claim-P2-gone (no id 'claim-P2-gone' in other.html)"]


def test_a_claims_row_outside_any_table_is_a_problem(html_dir):
    dom = _page("<p id='claim-P1-i-monotone'>P1-i-monotone is in prose only</p><table><tr><td>claim-P1-i-monotone</td></tr></table>")
    r = site.page_problems(dom, "book/ch.html", html_dir, [{"id": "P1-i-monotone"}])
    assert r.claims_found == 0 and any("not shown in a <table>" in p for p in r.problems)


def test_figures_rule_can_be_relaxed_for_a_transition(html_dir):
    dom = _page("<div class='cell_output'><img src='../_images/a.png'/></div>")
    assert site.page_problems(dom, "book/ch.html", html_dir, strict_figures=False).problems == []
