"""The P1 scan shape by shape (protocol v3, issue 28): each finding's statistic per shape and arm, and
its figure against depth and against vocabulary.

A *shape* is a network depth L and vocabulary V (``rgnb.mlp.sweeps.ScanShape``); an *arm* is what
is measured on a seed's probes (``rgnb.mlp.paired.ARMS``: the chain network at initialisation and
trained, the shuffled-chain network trained). :data:`STATISTICS` are the per-seed statistics the
registered rows test (``rgnb.mlp.evidence``), and :func:`scan_points` summarises each one by its
mean over seeds with a Student-t 95 % interval, per shape and arm; :func:`draw_scan` draws them
against L (at the main V) and against V (at the main L).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from rgnb.metrics import seed_ci
from rgnb.mlp import evidence as _evidence
from rgnb.mlp import paired as _paired
from rgnb.mlp import statistics as _statistics
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp.evidence import DRIFT, ERANK, PC90
from rgnb.mlp.findings import plateau_level, top2_share
from rgnb.stats import Interval
from rgnb.validate import check_choice

#: How each arm is drawn: label, line style, colour.
ARM_STYLE = {"chain-trained": ("trained on the chain", "-", "C0"),
             "chain-init": ("the same network at initialisation", "--", "C7"),
             "shuffled-trained": ("trained on the shuffled chain (same seed, same probes)", ":", "C3")}


#: Horizontal offset between the arms of one shape in :func:`draw_scan`, in octaves of the log2 axis.
DODGE = 0.06


@dataclasses.dataclass(frozen=True)
class ScanStatistic:
    """A per-seed statistic of one arm on one chain: ``of(measurements, arm, xi) -> (n_seeds,)``.

    ``min_depth``: the shallowest network it is defined for (the plateau needs a third transition
    beyond the top two over l >= 1, so L >= 4)."""

    key: str
    label: str  # the axis label: short (panels are stacked); the figure's caption says what it is
    of: Callable[[_paired.ShapeMeasurements, str, float], np.ndarray]
    min_depth: int = 2


def _erank_1(m, arm, xi):
    return m.get(arm, ERANK, xi)[:, 1]


def _bulk(m, arm, xi):
    return _statistics.bulk_excess(m.get(arm, PC90, xi), m.shape.vocab_size)


def _top2(m, arm, xi):
    return top2_share(m.get(arm, DRIFT, xi))


def _live(m, arm, xi):
    return _statistics.live_excess_concentration(m.get(arm, DRIFT, xi))


def _log_plateau(m, arm, xi):
    return np.log(plateau_level(m.get(arm, DRIFT, xi)))


STATISTICS = {s.key: s for s in (
    ScanStatistic("violation", "violation mass", _evidence.violations),
    ScanStatistic("log_c", "$\\log c$", _evidence.log_c),
    ScanStatistic("erank_1", "erank at $l = 1$", _erank_1),
    ScanStatistic("bulk", "PC90 $- (V - 1)$", _bulk),
    ScanStatistic("top2", "top-two share", _top2, min_depth=4),
    ScanStatistic("live", "excess concentration", _live, min_depth=4),
    ScanStatistic("log_plateau", "log plateau level", _log_plateau, min_depth=4),
)}


@dataclasses.dataclass(frozen=True)
class ScanPoint:
    """One statistic of one arm of one shape on chain ``xi``: its mean over seeds with a Student-t 95 % interval."""

    shape: _sweeps.ScanShape
    arm: str
    xi: float
    interval: Interval


def scan_points(measured: dict[_sweeps.ScanShape, _paired.ShapeMeasurements], statistic: str, xi: float,
                arms: tuple[str, ...] = _paired.ARMS) -> list[ScanPoint]:
    """The statistic ``statistic`` (a key of :data:`STATISTICS`) of every measured shape deep enough for it
    and every arm, on chain ``xi``; in (V, L) order."""
    stat = STATISTICS[check_choice("statistic", statistic, tuple(STATISTICS))]
    for arm in arms:
        check_choice("arm", arm, _paired.ARMS)
    shapes = sorted((s for s in measured if s.depth >= stat.min_depth), key=lambda s: (s.vocab_size, s.depth))
    return [ScanPoint(s, arm, float(xi), seed_ci(stat.of(measured[s], arm, xi))) for s in shapes for arm in arms]


def xi_series(m: _paired.ShapeMeasurements, statistic: str, arm: str) -> tuple[np.ndarray, list[Interval]]:
    """The statistic ``statistic`` of ``arm`` on every chain of one shape's xi grid: (xis, intervals over seeds)."""
    stat = STATISTICS[check_choice("statistic", statistic, tuple(STATISTICS))]
    check_choice("arm", arm, _paired.ARMS)
    return np.array(m.xis), [seed_ci(stat.of(m, arm, xi)) for xi in m.xis]


def _on_axis(shape: _sweeps.ScanShape, main: _sweeps.ScanShape, along: str) -> bool:
    """Whether ``shape`` lies on the depth axis (the main V) or the vocabulary axis (the main L)."""
    return shape.vocab_size == main.vocab_size if along == "depth" else shape.depth == main.depth


def _coordinate(shape: _sweeps.ScanShape, along: str) -> int:
    return shape.depth if along == "depth" else shape.vocab_size


def series(points: list[ScanPoint], arm: str, along: str, main: _sweeps.ScanShape) -> tuple[np.ndarray, list[Interval]]:
    """The points of ``arm`` along depth (``along="depth"``, at the main V) or vocabulary (``"vocab"``, at
    the main L), sorted: (x, intervals)."""
    check_choice("along", along, ("depth", "vocab"))
    keep = sorted((p for p in points if p.arm == arm and _on_axis(p.shape, main, along)),
                  key=lambda p: _coordinate(p.shape, along))
    x = np.array([_coordinate(p.shape, along) for p in keep], dtype=float)
    return x, [p.interval for p in keep]


def draw_scan(measured: dict[_sweeps.ScanShape, _paired.ShapeMeasurements], rows: tuple[tuple[str, float], ...],
              main: _sweeps.ScanShape, arms: tuple[str, ...] = _paired.ARMS):
    """One row of panels per ``(statistic, xi)`` of ``rows``: the statistic on chain xi against depth L at the
    main V (left) and vocabulary V at the main L (right), one line per arm with its 95 % interval over
    seeds; the main shape is marked by a grey bar. Returns the figure (legend below the panels)."""
    from rgnb import plots

    fig, axes = plots.subplots(ncols=2, nrows=len(rows), width=3.4, height=2.3)
    for row, (key, xi) in zip(axes, rows):
        points = scan_points(measured, key, xi, arms)
        for ax, along in zip(row, ("depth", "vocab")):
            for k, arm in enumerate(arms):
                label, ls, color = ARM_STYLE[arm]
                x, ivs = series(points, arm, along, main)
                if x.size == 0:
                    continue
                est = np.array([i.estimate for i in ivs])
                dodge = 2.0 ** (DODGE * (k - (len(arms) - 1) / 2))  # side by side on the log axis
                plots.interval_errorbar(ax, x * dodge, est, [i.low for i in ivs], [i.high for i in ivs], fmt="o",
                                        linestyle=ls, color=color, capsize=3, label=label)
            _shape_axis(ax, along, main, points)
        row[0].set_ylabel(STATISTICS[key].label)
        row[1].set_title(f"$\\xi = {xi:g}$", fontsize="medium", loc="right")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=1, frameon=False)
    return fig


def _shape_axis(ax, along: str, main: _sweeps.ScanShape, points: list[ScanPoint]) -> None:
    mark = main.depth if along == "depth" else main.vocab_size
    ax.axvline(mark, color="0.85", lw=3, zorder=0)
    ax.set_xscale("log", base=2)
    ticks = [_coordinate(s, along) for s in scan_shapes({p.shape for p in points}, main, along)]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(f"depth $L$ (V = {main.vocab_size})" if along == "depth" else f"vocabulary $V$ (L = {main.depth})")


def scan_shapes(measured, main: _sweeps.ScanShape, along: str) -> list[_sweeps.ScanShape]:
    """The shapes of ``measured`` (shapes, or a dict keyed by them) along depth (at the main V) or vocabulary
    (at the main L), in increasing order."""
    check_choice("along", along, ("depth", "vocab"))
    return sorted((s for s in measured if _on_axis(s, main, along)), key=lambda s: _coordinate(s, along))


def draw_profiles(measured: dict[_sweeps.ScanShape, _paired.ShapeMeasurements], rows: tuple[tuple[str, str], ...],
                  xi: float, shapes: list[_sweeps.ScanShape], arms: tuple[str, ...] = _paired.ARMS, log: bool = False):
    """One panel per shape (columns) and per ``(quantity, ylabel)`` of ``rows`` (rows of panels): the quantity (a
    profile over l = 0..L, or ``drift`` over the transitions l -> l+1) on chain ``xi``, mean over seeds with a
    Student-t 95 % band, one line per arm. Layer profiles start at l = 1 (h^0 is one vector on masked rows).
    Returns ``(fig, axes)``, axes ``[row, shape]`` (legend below the panels)."""
    if not shapes:
        raise ValueError("shapes must name at least one measured shape")
    return draw_columns([(f"L = {s.depth}, V = {s.vocab_size}", measured[s]) for s in shapes], rows, xi, arms, log)


def draw_columns(columns: list[tuple[str, _paired.ShapeMeasurements]], rows: tuple[tuple[str, str], ...], xi: float,
                 arms: tuple[str, ...] = _paired.ARMS, log: bool = False):
    """:func:`draw_profiles` with the columns given as ``(title, measurements)`` pairs (e.g. two readings of one
    shape). Returns ``(fig, axes)``, axes ``[row, column]``."""
    from rgnb import metrics, plots

    if not columns:
        raise ValueError("columns must hold at least one (title, measurements) pair")
    if not rows:
        raise ValueError("rows must name at least one (quantity, ylabel)")
    fig, axes = plots.subplots(ncols=len(columns), nrows=len(rows), width=2.6, height=2.3, sharey="row")
    for (quantity, ylabel), row in zip(rows, axes):
        for ax, (title, m) in zip(row, columns):
            for arm in arms:
                label, ls, color = ARM_STYLE[arm]
                values = m.get(arm, quantity, xi)[:, 1:]
                mean, lo, hi = metrics.seed_band(values)
                plots.band(ax, np.arange(1, values.shape[1] + 1), mean, lo, hi, label=label, linestyle=ls, color=color)
            L = m.shape.depth
            ax.set_xticks(sorted({1, max(1, L // 2), L - (quantity == DRIFT)}))
            ax.set(title=title, xlabel="transition $l \\to l+1$" if quantity == DRIFT else "layer $l$")
            if log:
                ax.set_yscale("log")
        row[0].set_ylabel(ylabel)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=1, frameon=False)
    return fig, axes


__all__ = ["ScanStatistic", "STATISTICS", "ScanPoint", "scan_points", "xi_series", "series", "scan_shapes", "draw_scan",
           "draw_profiles", "draw_columns", "ARM_STYLE"]
