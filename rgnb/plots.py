"""One figure style for the whole book: legible at the page width, colour-blind safe.

The rendered book's text column is about :data:`PAGE_WIDTH_PX` pixels wide in a 1280 px browser
window, and a figure wider than the column is scaled down to fit it. :func:`subplots` therefore caps
a figure's width at :data:`PAGE_WIDTH_IN` inches, so that a tick label set in :data:`TICK_PT`
points is at least 9 px tall on the page (:func:`min_label_px` computes it for any figure).
Colours follow the Okabe-Ito palette (distinguishable under the common colour-vision deficiencies);
``"C0"`` ... ``"C7"`` in chapter code name these colours once :func:`use_style` ran.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler

#: Okabe & Ito (2008) colour-blind-safe palette; C7 (black) is the neutral "reference/null" colour.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: Text-column width of the rendered book at a 1280 px window (sphinx-book-theme 1.3, measured in Chromium).
PAGE_WIDTH_PX = 678
#: Widest figure, in inches, that keeps TICK_PT-point labels >= 9 px once scaled into the column.
PAGE_WIDTH_IN = 7.0
#: Smallest font size (points) the style uses: tick labels and legends.
TICK_PT = 9.0
#: Smallest legible label height on the page (pixels), the issue's bar.
MIN_LABEL_PX = 9.0

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
    "image.cmap": "viridis",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": TICK_PT,
    "ytick.labelsize": TICK_PT,
    "legend.fontsize": TICK_PT,
    "legend.frameon": False,
    "legend.framealpha": 0.85,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
}


def use_style() -> None:
    """Apply the book's matplotlib style (also makes ``"C0"``..``"C7"`` the Okabe-Ito colours)."""
    plt.rcParams.update(STYLE)


def subplots(ncols: int = 1, nrows: int = 1, width: float = 4.0, height: float = 3.0, **kwargs):
    """``plt.subplots`` with the book style and a size per panel (inches); axes always 2-D ``[row, col]``.

    A row wider than :data:`PAGE_WIDTH_IN` is narrowed to it (panel heights shrink in proportion,
    down to 0.6 of the request) so that labels stay >= 9 px at page width. More than three panels in a
    row are hard to read at that width: prefer :func:`panels`, which wraps them into rows.
    """
    from rgnb.validate import check_float, check_int

    ncols = check_int("ncols", ncols, low=1)
    nrows = check_int("nrows", nrows, low=1)
    width = check_float("width", width, low=0.5)
    height = check_float("height", height, low=0.5)
    use_style()
    scale = min(1.0, PAGE_WIDTH_IN / (width * ncols))
    fig_w = width * ncols * scale
    fig_h = height * nrows * max(scale, 0.6)
    return plt.subplots(nrows, ncols, figsize=(fig_w, fig_h), squeeze=False, constrained_layout=True, **kwargs)


def panels(n: int, max_cols: int = 3, height: float = 2.6, **kwargs):
    """``n`` panels wrapped into rows of at most ``max_cols``, at page width; returns ``(fig, axes)``.

    ``axes`` is a flat list of the ``n`` used axes (left to right, top to bottom); unused grid cells are hidden.
    """
    from rgnb.validate import check_int

    n = check_int("n", n, low=1)
    max_cols = check_int("max_cols", max_cols, low=1, high=4)
    ncols = min(n, max_cols)
    nrows = math.ceil(n / ncols)
    fig, grid = subplots(ncols, nrows, width=PAGE_WIDTH_IN / ncols, height=height, **kwargs)
    flat = list(grid.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def band(ax, x, center, low, high, label: str | None = None, color=None, **kwargs):
    """Line with a shaded confidence band; returns the line."""
    (line,) = ax.plot(x, center, label=label, color=color, **kwargs)
    ax.fill_between(np.asarray(x), np.asarray(low), np.asarray(high), color=line.get_color(), alpha=0.2, lw=0)
    return line


def interval_errorbar(ax, x, estimate, low, high, **kwargs):
    """Points at ``estimate`` with error bars from ``low`` to ``high`` (an interval, not +- a width), each a
    scalar or an array of one shape; ``kwargs`` go to ``ax.errorbar``. The book's one interval error-bar helper."""
    x, est, lo, hi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, estimate, low, high))
    if not est.shape == lo.shape == hi.shape:
        raise ValueError(f"estimate, low and high must have one shape, got {est.shape}, {lo.shape}, {hi.shape}")
    if np.any(lo > est) or np.any(hi < est):
        raise ValueError("each interval must contain its estimate (low <= estimate <= high)")
    return ax.errorbar(x, est, [est - lo, hi - est], **kwargs)


def colorbar(mappable, ax, label: str, **kwargs):
    """A labelled colour bar beside ``ax`` for a heat map (``imshow``/``pcolormesh`` result); returns it."""
    fig = ax.figure
    cbar = fig.colorbar(mappable, ax=ax, pad=0.02, fraction=0.06, **kwargs)
    cbar.set_label(label)
    cbar.ax.tick_params(labelsize=TICK_PT)
    return cbar


def legend_outside(ax, **kwargs):
    """Legend to the right of the axes, outside the data (for crowded panels); returns it."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def min_label_px(fig, page_px: float = PAGE_WIDTH_PX) -> float:
    """Height in page pixels of the smallest visible text of ``fig`` once shown in the book's column.

    The image is ``fig width x dpi`` pixels wide and is scaled down to ``page_px`` when wider; a font
    of ``s`` points is ``s * dpi / 72`` image pixels. Counts tick labels, legends, axis labels and
    titles of visible axes (colour bars included).
    """
    dpi = fig.dpi
    image_px = fig.get_figwidth() * dpi
    scale = min(1.0, page_px / image_px)
    sizes = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts = [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label, ax.title]
        legend = ax.get_legend()
        if legend is not None:
            texts += list(legend.get_texts())
        sizes += [t.get_fontsize() for t in texts if t.get_visible() and t.get_text()]
    sizes += [t.get_fontsize() for t in fig.texts if t.get_visible() and t.get_text()]
    if not sizes:
        return math.inf
    return min(sizes) * dpi / 72.0 * scale


def check_legible(fig, page_px: float = PAGE_WIDTH_PX) -> None:
    """Raise ValueError when any text of ``fig`` would be under :data:`MIN_LABEL_PX` at page width."""
    px = min_label_px(fig, page_px)
    if px < MIN_LABEL_PX:
        raise ValueError(f"figure text would be {px:.1f} px at page width {page_px:g} px (allowed >= {MIN_LABEL_PX:g} px): "
                         f"narrow the figure (plots.panels) or enlarge the fonts")


#: Colour of each verdict in the forest plots (Okabe-Ito).
VERDICT_COLOURS = {"reproduced": "#009E73", "not reproduced": "#D55E00", "inconclusive": "#E69F00",
                   "vacuous test": "#CC79A7", "premise not met": "#999999"}


def readable_label(row, contrast: str, width: int = 36) -> str:
    """A forest-plot label a reader can read: source and the claim's statement (typeset, cut to ``width``), then
    the contrast on a second line. Internal claim ids stay out of the figure."""
    from rgnb.claims.display import mathtext, short

    source = "check" if row.source == "sanity check" else row.source
    claim = short(row.claim, width)
    contrast = short(contrast, 40).replace("$", r"\$")
    return f"{source}: {safe_mathtext(claim, mathtext(claim))}\n{contrast}"


def safe_mathtext(plain: str, typeset: str) -> str:
    """``typeset`` when matplotlib's mathtext parses it, else ``plain`` with its ``$`` escaped (a label never
    breaks a figure)."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(typeset) if "$" in typeset else None
        return typeset
    except ValueError:
        return plain.replace("$", r"\$")


def forest(rows, title: str | None = None, labels=None, limit: int = 3, controls: bool = True):
    """Forest plot of claims rows (``rgnb.claims.Row``): every effect with its 95 % CI in units of its margin.

    Each effect is drawn as ``s * effect / margin`` (``s = -1`` for a claim of a fall), so a presence
    claim's side is right of the dashed line at 1 and an absence claim's equivalence band is
    [-1, 1] (shaded); the positive control of an absence claim is drawn below its contrasts. A
    margin of 0 is drawn in the statistic's own units. A row with more than three contrasts (one per layer
    or time) shows the ``limit`` nearest to deciding against it. Colours: the row's verdict. ``labels``: a
    function ``(row, contrast name) -> label`` (default :func:`readable_label`: the claim, never its id); ``controls=False`` leaves out positive
    controls and placebos. Returns ``(fig, ax)``.
    """
    from rgnb.claims.tables import decisive_effects

    lines = []
    for r in rows:
        s = -1.0 if (r.kind == "presence" and r.direction == "below") else 1.0
        scale = r.margin if r.margin > 0 else 1.0
        unit = "" if r.margin > 0 else " (margin 0: own units)"
        groups = (("", r.effects), ("positive control: ", r.positive_control), ("placebo: ", r.placebo))
        for group, effects in groups if controls else groups[:1]:
            shown, _ = decisive_effects(r, effects, limit=limit)
            for name, e in shown:
                lo, hi = sorted((s * e["low"] / scale, s * e["high"] / scale))
                label = (labels or readable_label)(r, f"{group}{name}{unit}")
                lines.append((label, s * e["estimate"] / scale, lo, hi, r.verdict, r.kind))
    n = max(len(lines), 1)
    per_line = 0.42 if any("\n" in ln[0] for ln in lines) else 0.32
    fig, grid = subplots(1, 1, width=PAGE_WIDTH_IN, height=per_line * n + 1.5)
    ax = grid[0, 0]
    if any(k == "absence" for *_, k in lines):
        ax.axvspan(-1, 1, color="#56B4E9", alpha=0.15, lw=0, label="equivalence band (absence)")
    ax.axvline(0, color="#000000", lw=0.8)
    if any(k == "presence" for *_, k in lines):
        ax.axvline(1, color="#000000", lw=0.8, ls="--", label="margin (presence: claim's side to the right)")
    for i, (label, est, lo, hi, verdict, _) in enumerate(lines):
        y = n - 1 - i
        c = VERDICT_COLOURS.get(verdict, "#000000")
        finite_lo, finite_hi = (lo if math.isfinite(lo) else -1e3), (hi if math.isfinite(hi) else 1e3)
        ax.plot([finite_lo, finite_hi], [y, y], color=c, lw=2)
        ax.plot([est], [y], "o", color=c, ms=5)
    ax.set_yticks(range(n))
    ax.set_yticklabels([ln[0] for ln in lines][::-1])
    xs = [v for ln in lines for v in ln[1:4] if math.isfinite(v)] + [-1.2, 1.2]
    lo_x, hi_x = min(xs), max(xs)
    pad = 0.05 * (hi_x - lo_x)
    ax.set_xlim(lo_x - pad, hi_x + pad)
    ax.set_xlabel("effect / margin (claim's side > 0)")
    handles = [plt.Line2D([], [], color=c, lw=2, label=v) for v, c in VERDICT_COLOURS.items()
               if any(ln[4] == v for ln in lines)]
    fig.legend(handles=handles + ax.get_legend_handles_labels()[0], loc="outside lower center", ncol=2,
               fontsize=TICK_PT, frameon=False)
    if title:
        ax.set_title(title)
    return fig, ax


def paper_forest(rows, width: int = 40):
    """The intro's forest plot: every paper claim (P1-P3) of ``rows``, its decisive contrast with the 95 % CI in
    units of its margin, labelled by paper and statement (typeset), colour the row's verdict."""
    from rgnb.claims.display import mathtext, short
    from rgnb.claims.spec import PAPERS

    mine = [r for r in rows if r.source in PAPERS and r.kind != "check"]

    def label(r, contrast):
        hoc = " (post hoc)" if r.post_hoc else ""
        claim = short(r.claim, width)
        return f"{r.source}: {safe_mathtext(claim, mathtext(claim))}\nvs {short(contrast, 30)}{hoc}"

    fig, ax = forest(mine, labels=label, limit=1, controls=False)
    ax.set_xscale("symlog", linthresh=1.0)
    lo, hi = ax.get_xlim()
    ax.set_xticks([t for t in (-1000, -100, -10, -1, 0, 1, 10, 100, 1000) if lo <= t <= hi])
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("decisive contrast / margin (claim's side > 0; logarithmic beyond 1)")
    fig.set_size_inches(PAGE_WIDTH_IN, 0.42 * len(mine) + 1.6)
    return fig, ax


__all__ = ["OKABE_ITO", "PAGE_WIDTH_PX", "PAGE_WIDTH_IN", "TICK_PT", "STYLE", "use_style", "subplots", "panels",
           "band", "colorbar", "legend_outside", "min_label_px", "check_legible", "forest", "paper_forest", "readable_label",
           "VERDICT_COLOURS"]
