"""The book's figure style: page-width legibility, palette, colour bar, panels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rgnb import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _draw(axes):
    for ax in np.ravel(axes):
        ax.plot([0, 1000, 2000], [0.001, 0.5, 1.0], label="trained")
        ax.set_xlabel("layer")
        ax.legend()


def test_wide_row_is_capped_at_page_width_and_stays_legible():
    fig, axes = plots.subplots(5, 1, width=4.0, height=3.0)  # 20 in requested
    _draw(axes)
    assert fig.get_figwidth() == pytest.approx(plots.PAGE_WIDTH_IN)
    # scaled into the column: 9 pt at 7 in over 678 px -> 9/72 * 678/7 = 12.1 px
    assert plots.min_label_px(fig) == pytest.approx(9 / 72 * plots.PAGE_WIDTH_PX / plots.PAGE_WIDTH_IN)
    assert plots.min_label_px(fig) >= plots.MIN_LABEL_PX
    plots.check_legible(fig)


def test_narrow_figure_keeps_its_size_and_native_pixels():
    fig, axes = plots.subplots(1, 1, width=4.0, height=3.0)
    _draw(axes)
    assert fig.get_size_inches() == pytest.approx([4.0, 3.0])
    # 440 px wide < 678 px column: shown unscaled, 9 pt at 110 dpi = 13.75 px
    assert plots.min_label_px(fig) == pytest.approx(9 * 110 / 72)


def test_min_label_px_sees_a_small_legend_and_check_legible_refuses_it():
    fig, axes = plots.subplots(3, 1, width=2.4, height=2.5)
    _draw(axes)
    axes[0, 0].legend(fontsize=5)
    # 7.2 in > 7 in is capped to 7 in; 5 pt -> 5/72 * 678/7 = 6.7 px
    assert plots.min_label_px(fig) == pytest.approx(5 / 72 * plots.PAGE_WIDTH_PX / plots.PAGE_WIDTH_IN)
    with pytest.raises(ValueError, match="px at page width"):
        plots.check_legible(fig)


def test_an_unscaled_figure_of_the_old_style_fails_the_bar():
    """The training chapter's old 5-panel figure: 5 x 4 in at 8 pt legends -> 4.9 px: illegible."""
    plt.rcParams.update(plots.STYLE)
    fig, axes = plt.subplots(1, 5, figsize=(20, 3), squeeze=False)
    _draw(axes)
    for ax in axes.ravel():
        ax.legend(fontsize=8)
    assert plots.min_label_px(fig) == pytest.approx(8 / 72 * plots.PAGE_WIDTH_PX / 20)
    with pytest.raises(ValueError):
        plots.check_legible(fig)


def test_palette_is_okabe_ito_and_C_names_follow_it():
    plots.use_style()
    assert len(set(plots.OKABE_ITO)) == 8
    for k, hexcol in enumerate(plots.OKABE_ITO):
        assert mcolors.to_hex(f"C{k}").lower() == hexcol.lower()
    fig, axes = plots.subplots()
    (line,) = axes[0, 0].plot([0, 1])
    assert mcolors.to_hex(line.get_color()).lower() == plots.OKABE_ITO[0].lower()


def test_panels_wrap_into_rows_and_hide_unused_cells():
    fig, axes = plots.panels(5, max_cols=3)
    assert len(axes) == 5
    assert len(fig.axes) == 6
    assert sum(ax.get_visible() for ax in fig.axes) == 5
    assert fig.get_figwidth() == pytest.approx(plots.PAGE_WIDTH_IN)
    rows = sorted({round(ax.get_position().y0, 3) for ax in axes})
    assert len(rows) == 2


def test_colorbar_is_labelled_and_legible():
    fig, axes = plots.subplots(2, 1, width=3.4, height=2.8)
    im = axes[0, 1].pcolormesh(np.arange(5), np.arange(4), np.random.default_rng(0).random((3, 4)))
    cbar = plots.colorbar(im, axes[0, 1], label="log10 relative error")
    assert cbar.ax.get_ylabel() == "log10 relative error"
    fig.canvas.draw()
    assert len(fig.axes) == 3
    assert plots.min_label_px(fig) >= plots.MIN_LABEL_PX


@pytest.mark.parametrize("kwargs", [dict(ncols=0), dict(nrows=-1), dict(width=0.1), dict(ncols=True)])
def test_subplots_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        plots.subplots(**kwargs)


def test_band_shades_between_low_and_high():
    fig, axes = plots.subplots()
    ax = axes[0, 0]
    line = plots.band(ax, [0, 1, 2], [1, 2, 3], [0.5, 1.5, 2.5], [1.5, 2.5, 3.5], label="m")
    (poly,) = ax.collections
    verts = poly.get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(0.5) and verts[:, 1].max() == pytest.approx(3.5)
    assert mcolors.to_hex(poly.get_facecolor()[0]) == mcolors.to_hex(line.get_color())


def test_interval_errorbar_draws_the_interval_not_a_width():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots()
    bars = plots.interval_errorbar(ax, [1.0, 2.0], [0.5, 1.0], [0.2, 0.9], [0.6, 1.5])
    segments = bars.lines[2][0].get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segments], [[0.2, 0.6], [0.9, 1.5]])
    with pytest.raises(ValueError, match="contain its estimate"):
        plots.interval_errorbar(ax, 1.0, 0.5, 0.6, 0.9)
    with pytest.raises(ValueError, match="one shape"):
        plots.interval_errorbar(ax, [1.0, 2.0], [0.5, 1.0], [0.2], [0.6, 1.5])
    plt.close(fig)


def test_forest_plots_label_claims_readably_and_stay_legible():
    import matplotlib.pyplot as plt

    from rgnb import claims, plots
    from rgnb.layout import REPO_ROOT

    rows = claims.load_ledger(REPO_ROOT / "book" / "_run")
    for fig, ax in (plots.forest(rows), plots.paper_forest(rows)):
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels and not any(r.id in lab for r in rows for lab in labels if len(r.id) > 4)
        assert plots.min_label_px(fig) >= plots.MIN_LABEL_PX
        plt.close(fig)
    fig, ax = plots.paper_forest(rows)
    assert len(ax.get_yticklabels()) == sum(1 for r in rows if r.source in claims.PAPERS)
    plt.close(fig)


def test_a_label_matplotlib_cannot_typeset_falls_back_to_plain_text():
    from rgnb import plots

    assert plots.safe_mathtext("a xi", r"a $\xi$") == r"a $\xi$"
    assert plots.safe_mathtext("costs $5", r"$\notacommand{$") == r"costs \$5"
