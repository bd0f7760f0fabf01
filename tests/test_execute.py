"""rgnb.execute: the chapter list, the injected-cell tag, and the site check."""

import nbformat
import pytest

from rgnb import execute


def test_every_chapter_in_the_toc_has_a_source():
    names = execute.chapters()
    assert names[0] == "intro" and names[-1] == "appendix" and len(set(names)) == len(names)
    for name in names:
        assert (execute.BOOK_DIR / f"{name}.py").exists(), name


def test_injected_parameters_are_hidden(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    execute._hide_injected_parameters(path)
    cells = nbformat.read(path, as_version=4).cells
    assert "remove-cell" in cells[0].metadata.tags
    assert "remove-cell" not in cells[1].metadata.get("tags", [])


def _page(tmp_path, name, body):
    (tmp_path / "book").mkdir(exist_ok=True)
    (tmp_path / "book" / f"{name}.html").write_text(f"<html><p><strong>Executed</strong></p>{body}</html>")


def test_site_check_finds_missing_pages_figures_and_errors(tmp_path):
    names = execute.chapters()
    for name in names:
        _page(tmp_path, name, '<img alt="" src="../_images/fig.png" />')
    assert execute.check_site(tmp_path) == []
    figure_chapter = next(n for n in names if n not in execute.TEXT_ONLY)
    _page(tmp_path, figure_chapter, "<pre>Traceback (most recent call last)</pre>")
    (tmp_path / "book" / f"{names[0]}.html").unlink()
    problems = execute.check_site(tmp_path)
    assert any("missing" in p for p in problems)
    assert any(f"{figure_chapter}: no figure" in p for p in problems)
    assert any("error output" in p for p in problems)


def test_unknown_chapter_rejected():
    with pytest.raises(ValueError, match="chapter must be one of"):
        execute.execute("smoke", ["no_such_chapter"])
