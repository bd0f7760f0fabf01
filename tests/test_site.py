"""The rendered-site check: DOM rules on synthetic pages, the Sphinx helpers, and a real headless-Chromium run."""

import base64
import json

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


def test_rerun_commands_name_the_chapter_and_profile():
    cmds = [c for c in site.rerun_commands("kernel_eft", "reference") if not c.startswith("#")]
    assert cmds == [".venv/bin/python -m rgnb execute --profile reference --chapter kernel_eft",
                    ".venv/bin/python -m rgnb build"]
    assert "_build/runs/full/kernel_eft.ipynb" in site.rerun_commands("kernel_eft", "full")[0]
    assert "_build/runs/reference/_run/" in site.rerun_commands("kernel_eft", "reference")[0]
    assert "not a test of the papers" in site.profile_note("smoke")
    assert "full" in site.profile_note("reference")


def test_without_chromium_the_check_says_skipped_never_passes(tmp_path, monkeypatch):
    monkeypatch.delenv("RGNB_CHROMIUM", raising=False)
    monkeypatch.setattr(site, "CHROMIUM_NAMES", ())  # no browser on PATH either
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


def _row(rid, chapter="chain_spectra", source="P1", profile="reference", verdict="reproduced"):
    from rgnb import claims, effects

    spec = claims.ClaimSpec(id=rid, chapter=chapter, source=source, claim=f"claim {rid}", statistic="s",
                            kind="check" if source == "sanity check" else "presence", direction="above", margin=0.0,
                            margin_reason="r", premise="p", primary="c", interval="exact",
                            contrasts=() if source == "sanity check" else ("n",))
    ev = claims.Evidence("c", {"value" if source == "sanity check" else "n": effects.exact(1.0)})
    row = claims.evaluate(spec, ev, profile=profile, events=[])
    return {**row.to_json(), "verdict": verdict}


def test_load_ledgers_groups_by_the_rows_profile_and_names_legacy_chapters(tmp_path):
    ref, full = tmp_path / "_run", tmp_path / "_run" / "full"
    full.mkdir(parents=True)
    (ref / "chain_spectra.claims.json").write_text(json.dumps(
        {"schema": 3, "chapter": "chain_spectra", "profile": "smoke",
         "rows": [_row("P1-a", profile="smoke"), _row("S-b", source="sanity check", profile="smoke")]}))
    (ref / "training.claims.json").write_text(json.dumps([{"claim": "old", "verdict": "reproduced"}]))
    (full / "chain_spectra.claims.json").write_text(json.dumps(
        {"schema": 3, "chapter": "chain_spectra", "profile": "full", "rows": [_row("P1-a", profile="full")]}))
    ledgers, notes = site.load_ledgers({"reference": ref, "full": full})
    assert sorted(ledgers) == ["full", "smoke"]
    assert [r.id for r in ledgers["smoke"]] == ["P1-a", "S-b"]
    assert [r.id for r in ledgers["full"]] == ["P1-a"]
    assert len(notes) == 1 and "training" in notes[0] and "old format" in notes[0]


def test_load_ledgers_says_when_a_profile_was_never_run(tmp_path):
    ledgers, notes = site.load_ledgers({"reference": tmp_path / "nothing", "full": tmp_path / "nothing" / "full"})
    assert ledgers == {}
    assert len(notes) == 2 and "No `reference` run" in notes[0] and "No `full` run" in notes[1]


def test_profile_run_dirs_follow_rgnb_run_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("RGNB_RUN_DIR", raising=False)
    assert site.profile_run_dirs() == {"reference": site.RUN_DIR, "full": site.RUN_DIR / "full"}
    monkeypatch.setenv("RGNB_RUN_DIR", str(tmp_path / "copy"))
    # the executing run stands for its profile; the other profile's run is the stored one (never a temp path)
    assert site.profile_run_dirs() == {"reference": tmp_path / "copy", "full": site.RUN_DIR / "full"}
    monkeypatch.setenv("RGNB_RUN_DIR", str(tmp_path / "copy" / "full"))
    assert site.profile_run_dirs()["full"] == tmp_path / "copy" / "full"


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
    assert "rgnb-rerun" in intro and "Re-run this page" in text
    assert ".venv/bin/python -m rgnb execute --profile reference --chapter intro" in text
    assert 'href="../_sources/book/intro.py"' in intro and (html / "_sources" / "book" / "intro.py").exists()
    assert "Kawase and Ota, 2026" in intro                                   # author-year, real authors
    assert 'src="../_static/mathjax/tex-chtml.js' in intro and (html / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert "unpkg" not in intro and "cdn.jsdelivr" not in intro and "THEBE_JS_URL" not in intro
    assert "<table" in appendix and "|---|" not in appendix                # Markdown output -> a real table
    assert '<span class="math notranslate nohighlight">\\(\\xi\\)</span>' in appendix
    assert "Collective kernel {EFT}" not in appendix and "ResNets" in appendix  # protected capitals
