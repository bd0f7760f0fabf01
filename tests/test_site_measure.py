"""Tests of rgnb.site.measure (layout at 1280 and 390 px), rgnb.site.pdf (the PDF's checks),
rgnb.site.repository (the one repository setting) and rgnb.site.bibstyle (author-year labels)."""

import pytest

from rgnb.site import bibstyle, measure, pdf, repository


def _m(tables=(), images=(), vw=390, scroll=None, dash=None):
    return {"viewport": [vw, 800], "scroll_width": scroll or vw, "overflow": [],
            "article": {"x": 16, "y": 0, "w": vw - 32, "h": 1000, "right": vw - 16},
            "tables": list(tables), "images": list(images), "dashboard_y": dash}


def _t(w, cw, claims=False, scrolls=False, verdict_right=None):
    return {"claims": claims, "scrolls": scrolls, "verdict_right": verdict_right, "text": "claim verdict",
            "box": {"x": 16, "y": 0, "w": w, "h": 10, "right": 16 + w},
            "container": {"x": 16, "y": 0, "w": cw, "h": 10, "right": 16 + cw}}


def test_frame_page_holds_the_page_at_phone_width():
    html = measure.frame_html("book/intro.html")
    assert 'src="/book/intro.html?rgnb-measure"' in html and "width:390px" in html
    dom = '<body><script type="application/json" id="rgnb-measure">{"a": 1}</script></body>'
    assert measure.parse_measure(dom) == {"a": 1} and measure.parse_measure("<body></body>") is None


def test_layout_problems_at_phone_width():
    ok, counts = measure.layout_problems(_m([_t(358, 358, claims=True, verdict_right=370), _t(600, 358, scrolls=True)]),
                                         390)
    assert ok == [] and counts["tables"] == 2 and counts["wide_tables"] == 0
    bad, counts = measure.layout_problems(_m([_t(500, 358, claims=True, verdict_right=480), _t(500, 358)],
                                             scroll=520), 390)
    assert counts["wide_tables"] == 2
    text = " ".join(bad)
    assert "scrolls sideways" in text and "claims table" in text and "off-screen" in text and "container" in text
    assert "did not run" in measure.layout_problems(None, 390)[0][0]


def test_intro_first_screen_and_figure_text_at_desktop_width():
    img = {"src": "a.png", "natural": 782, "shown": 678}
    ok, counts = measure.layout_problems(_m(images=[img], vw=1280, dash=550), 1280, intro=True)
    assert ok == [] and counts["min_figure_text_px"] == pytest.approx(11.9, abs=0.1)
    late, _ = measure.layout_problems(_m(vw=1280, dash=3600), 1280, intro=True)
    assert "below the first screen" in late[0]
    assert "no verdict dashboard" in measure.layout_problems(_m(vw=1280), 1280, intro=True)[0][0]
    small, _ = measure.layout_problems(_m(images=[{"natural": 1600, "shown": 678}], vw=1280), 1280)
    assert "figure text" in small[0]


def test_pdf_facts_and_outline_titles(tmp_path):
    title = "3. Finding (i): does the effective rank fall with depth?"
    hexed = "FEFF" + "3. Finding (i): does the effective rankfall with depth?#".encode("utf-16-be").hex().upper()
    data = (b"%PDF-1.4\n1 0 obj <</Type /Pages /Count 2>> endobj\n2 0 obj <</Type /Page /Parent 1 0 R>> endobj\n"
            b"3 0 obj <</Type /Page>> endobj\n4 0 obj <</Title (1. Chain spectra: the data and its\\(x\\)) >> endobj\n"
            b"5 0 obj <</Title <" + hexed.encode() + b">>> endobj\n")
    pages, titles = pdf.pdf_facts(data)
    assert pages == 2 and titles[0] == "1. Chain spectra: the data and its(x)"
    assert pdf.title_in_outline(title, titles) and not pdf.title_in_outline("4. Finding (ii): selective?", titles)
    (tmp_path / "b.pdf").write_bytes(data)
    n, problems = pdf.pdf_problems(tmp_path / "b.pdf", [title, "9. Reproducibility"], min_pages=3)
    assert n == 2 and len(problems) == 2 and "9. Reproducibility" in problems[1]
    assert pdf.pdf_problems(tmp_path / "none.pdf", [])[1] == [f"no PDF at {tmp_path / 'none.pdf'}"]


def test_chapter_titles_are_numbered_in_book_order():
    titles = pdf.chapter_titles()
    assert not titles[0][0].isdigit() and titles[1].startswith("1. ") and titles[-1].startswith(f"{len(titles) - 1}. ")


def test_repository_setting_and_the_refusal_to_publish_a_placeholder(tmp_path):
    cfg = tmp_path / "_config.yml"
    cfg.write_text(f"repository:\n  url: {repository.PLACEHOLDER_URL}\n")
    assert repository.is_placeholder(repository.repository_url(cfg))
    with pytest.raises(ValueError, match="refusing to publish"):
        repository.check_publishable(cfg)
    assert "placeholder" in repository.clone_markdown(cfg)
    cfg.write_text("repository:\n  url: https://github.com/someone/real-book\n")
    repository.check_publishable(cfg)
    assert "git clone https://github.com/someone/real-book" in repository.clone_markdown(cfg)
    cfg.write_text("title: x\n")
    assert repository.is_placeholder(repository.repository_url(cfg))


def test_author_year_labels():
    from pybtex.database import parse_string

    db = parse_string("""@article{a, author={Haggi-Mani, Parviz and Rish, Irina}, year={2026}, title={A}}
    @article{b, author={Kadanoff, Leo}, year={1966}, title={B}}
    @article{c, author={Roberts, D. and Yaida, S. and Hanin, B.}, year={2022}, title={C}}
    @article{d, author={Kadanoff, Leo}, year={1966}, title={D}}""", "bibtex")
    labels = list(bibstyle.AuthorYearLabels().format_labels(db.entries.values()))
    assert labels == ["Haggi-Mani and Rish, 2026", "Kadanoff, 1966a", "Roberts et al., 2022", "Kadanoff, 1966b"]


def test_figure_text_too_small_on_a_phone_is_a_problem():
    small, counts = measure.layout_problems(_m(images=[{"natural": 782, "shown": 358}]), 390)
    assert counts["min_figure_text_px"] < 9 and "figure text" in small[0]
    ok, _ = measure.layout_problems(_m(images=[{"natural": 782, "shown": 560}]), 390)
    assert ok == []
