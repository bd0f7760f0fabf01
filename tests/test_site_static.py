"""The static scan of the built pages (rgnb.site.static)."""

import pytest

from rgnb.layout import chapters
from rgnb.site import static


def _page(tmp_path, name, body):
    (tmp_path / "book").mkdir(exist_ok=True)
    (tmp_path / "book" / f"{name}.html").write_text(f"<html><p><strong>Executed</strong></p>{body}</html>")


def test_site_check_finds_missing_pages_figures_and_errors(tmp_path):
    names = chapters()
    for name in names:
        _page(tmp_path, name, '<img alt="" src="../_images/fig.png" />')
    assert static.check_built_pages(tmp_path) == []
    figure_chapter = next(n for n in names if n not in static.TEXT_ONLY)
    _page(tmp_path, figure_chapter, "<pre>Traceback (most recent call last)</pre>")
    (tmp_path / "book" / f"{names[0]}.html").unlink()
    problems = static.check_built_pages(tmp_path)
    assert f"{names[0]}: page {tmp_path / 'book' / (names[0] + '.html')} is missing" in problems
    assert f"{figure_chapter}: no figure on the page" in problems
    assert f"{figure_chapter}: shows error output ('Traceback (most recent call last)')" in problems
    assert len(problems) == 3


@pytest.mark.parametrize("body,found", [
    ('<div class="cell_output docutils container"><div class="output stderr"><pre>warn</pre></div></div>',
     "output stderr"),
    ('<div class="cell_output docutils container"><pre>ValueError: seed must be ...</pre></div>', "ValueError"),
    ('<div class="cell_output docutils container"><pre>KeyError</pre></div>', "KeyError"),
    ('<div class="cell_output docutils container"><div class="output traceback highlight-ipythontb">x</div></div>',
     'class="output traceback'),
])
def test_any_error_output_fails_the_site_check(body, found):
    assert found in static.error_outputs("<section>" + body + "</section>")


def test_prose_about_errors_is_not_error_output():
    assert static.error_outputs("<p>A ValueError names the parameter.</p><div class=\"cell_output x\">"
                                 "<pre>| claim | reproduced |</pre></div>") == []
