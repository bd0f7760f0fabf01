"""One figure style for the whole book."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "axes.titlesize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
}


def use_style() -> None:
    """Apply the book's matplotlib style."""
    plt.rcParams.update(STYLE)


def subplots(ncols: int = 1, nrows: int = 1, width: float = 4.0, height: float = 3.0, **kwargs):
    """``plt.subplots`` with the book style and a size per panel (inches)."""
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                        constrained_layout=True, **kwargs)


def band(ax, x, center, low, high, label: str | None = None, color=None, **kwargs):
    """Line with a shaded confidence band; returns the line."""
    (line,) = ax.plot(x, center, label=label, color=color, **kwargs)
    ax.fill_between(np.asarray(x), np.asarray(low), np.asarray(high), color=line.get_color(), alpha=0.2, lw=0)
    return line
