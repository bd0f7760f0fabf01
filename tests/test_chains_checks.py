"""Tests of rgnb.chains.checks: the correlation-length scan and its worst grid point."""

import numpy as np
import pytest

from rgnb import chains
from rgnb.stats import Interval


def test_correlation_length_scan_measures_the_requested_xi():
    xis = (0.5, 2.0, 7.0)
    scan = chains.correlation_length_scan("ring", 8, xis, 20000, 16, seed=3)
    assert set(scan) == {"xi", "estimate", "low", "high"}
    assert np.array_equal(scan["xi"], np.asarray(xis))
    assert np.all(scan["low"] < scan["estimate"]) and np.all(scan["estimate"] < scan["high"])
    assert np.all(np.abs(scan["estimate"] / scan["xi"] - 1) < 0.05)
    z = np.abs(scan["estimate"] - scan["xi"]) / ((scan["high"] - scan["low"]) / (2 * 1.96))
    assert z.max() < 4.0  # within the stated error
    again = chains.correlation_length_scan("ring", 8, xis, 20000, 16, seed=3)
    assert all(np.array_equal(scan[k], again[k]) for k in scan)  # seeded: reproducible
    other = chains.correlation_length_scan("ring", 8, xis, 20000, 16, seed=4)
    assert not np.array_equal(scan["estimate"], other["estimate"])  # and the seed is used


def test_relative_deviation_interval_and_the_worst_grid_point():
    inside = chains.relative_deviation_interval(Interval(1.02, 0.95, 1.10), 1.0)
    assert inside.estimate == pytest.approx(0.02) and inside.low == 0.0 and inside.high == pytest.approx(0.10)
    above = chains.relative_deviation_interval(Interval(2.4, 2.2, 2.6), 2.0)
    assert above.low == pytest.approx(0.1) and above.high == pytest.approx(0.3)
    below = chains.relative_deviation_interval(Interval(1.6, 1.5, 1.8), 2.0)
    assert below.low == pytest.approx(0.1) and below.high == pytest.approx(0.25)
    scan = {"xi": np.array([1.0, 2.0, 4.0]), "estimate": np.array([1.0, 2.4, 4.1]),
            "low": np.array([0.98, 2.2, 3.9]), "high": np.array([1.02, 2.6, 4.3])}
    worst = chains.worst_xi_deviation(scan)
    assert worst.high == pytest.approx(0.3) and worst.low == pytest.approx(0.1)


@pytest.mark.parametrize("call,match", [
    (lambda: chains.context_beyond_neighbours(np.eye(3), 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.correlation_length_scan("ring", 8, (1.0,), 10, 8, seed=-1), r"seed must be an integer in \[0, "),
    (lambda: chains.correlation_length_scan("ring", 8, (100.0,), 10, 8), r"xis must lie in \[0\.3, 50\]"),
    (lambda: chains.correlation_length_scan("ring", 8, (), 10, 8), "xis must hold at least one"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
