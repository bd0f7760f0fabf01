"""Tests of rgnb.claims.display (ASCII math typeset) and rgnb.claims.html (badges, compact tables, dashboard)."""

import re

from rgnb import claims
from rgnb.claims import display, html
from rgnb.layout import REPO_ROOT

ROWS = claims.load_ledger(REPO_ROOT / "book" / "_run")


def test_ascii_math_is_typeset_and_plain_text_left_alone():
    assert display.tex("xi ~ 7") == r"\xi \approx 7"
    assert display.tex("lambda_2^k") == r"\lambda_{2}^{k}"
    assert display.tex("R^l(theta_0)") == r"R^{l}(\theta_{0})"
    assert display.tex("theta*") == r"\theta^{*}"
    assert display.tex("2^{y_t}") == r"2^{y_{t}}"
    out = display.math_html("absent at xi ~ 7, with h^l < 3 & no more")
    assert r"\(\xi \approx 7\)" in out and r"\(h^{l}\)" in out and "&lt; 3 &amp; no more" in out
    for plain in ("V in {3, 8, 16}, l >= 1", "depth 8, potts", "a plain sentence"):
        assert "math" not in display.math_html(plain)
    assert display.math_html("with $x^2$ <b>") == r'with <span class="math notranslate nohighlight">\(x^2\)</span> &lt;b&gt;'
    assert display.mathtext("xi ~ 1") == r"$\xi \approx 1$"
    assert display.short("one two three four", 12) == "one two\u2026" and display.short("short", 12) == "short"


def test_badge_carries_text_and_symbol_not_colour_alone():
    for v in claims.VERDICTS:
        b = html.badge(v)
        assert f"rgnb-v-{v.replace(' ', '-')}" in b and f"</span> {v}</span>" in b and html.VERDICT_MARKS[v] in b
    assert "post hoc" in html.badge("reproduced", post_hoc=True)


def test_claims_table_has_three_columns_anchors_and_the_test_in_a_detail():
    rows = [r for r in ROWS if r.chapter == "selectivity"]
    out = html.claims_table_html(rows, {"fig-selectivity-forest": "#fig-selectivity-forest"})
    assert len(re.findall(r"<th[ >]", out)) == 3 and out.count('<tr id="claim-') == len(rows)
    for r in rows:
        assert f'id="{claims.anchor(r.id)}"' in out and r.id not in re.sub(r'id="[^"]+"', "", out)  # no ids shown
    assert out.count("<details") == len(rows) and "margin, and why" in out and "premise" in out
    assert "\\(\\xi \\approx 7\\)" in out


def test_dashboard_has_a_tally_per_paper_and_one_row_per_paper_claim():
    out = html.dashboard_html({"reference": ROWS})
    papers = sorted({r.source for r in ROWS if r.source in claims.PAPERS})
    assert out.count('class="rgnb-paper"') == len(papers)
    n_paper = sum(1 for r in ROWS if r.source in claims.PAPERS)
    assert len(re.findall(r'<a href="[a-z_]+\.html#claim-', out)) == n_paper
    for p in papers:
        n = sum(1 for r in ROWS if r.source == p)
        assert f"{n} claim{'s' if n != 1 else ''}:" in out
    assert "No recorded run" in html.dashboard_html({})


def test_summary_tables_per_kind():
    ours = html.summary_table_html(ROWS, "ours")
    assert ours.count("<tr>") - 1 == sum(1 for r in ROWS if claims.kind_of(r) == "ours")
    paper = html.summary_table_html(ROWS, "paper")
    assert "Holm p" in paper and "verdict after Holm" in paper


def test_a_token_that_would_be_bad_tex_stays_plain():
    assert not display.well_formed(r"K_{0}_{ODE}") and not display.well_formed(r"a_{b")
    assert display.well_formed(r"\lambda_{2}^{k}") and display.well_formed(r"2^{y_{t}}")
    assert "math" not in display.math_html("||E[G] - K0_ODE||")
