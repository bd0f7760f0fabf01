"""Tests of rgnb.metrics' input handling (rgnb.metrics.arrays), through the measures: bad inputs name the parameter."""

import numpy as np
import pytest

from rgnb import metrics


@pytest.mark.parametrize("call, name", [
    (lambda: metrics.effective_rank(np.ones(5)), "X"),
    (lambda: metrics.effective_rank(np.ones((1, 5))), "N >= 2"),
    (lambda: metrics.participation_ratio(np.ones((1, 3))), "N >= 2"),
    (lambda: metrics.linear_cka(np.ones((5, 2)), np.ones((4, 2))), "X and Y"),
    (lambda: metrics.linear_cka(np.ones((1, 2)), np.ones((1, 2))), "N >= 2"),
    (lambda: metrics.stream_erank(np.ones((4, 3))), "h"),
    (lambda: metrics.stream_erank(np.ones((1, 3, 2))), "N >= 2"),
    (lambda: metrics.stream_erank(np.ones((4, 3, 2)), mode="mean"), "mode"),
    (lambda: metrics.stream_spectrum_measure(np.ones((4, 3, 2)), measure="rank"), "measure"),
    (lambda: metrics.kernel_drift(np.ones((4, 3, 2))), "h"),
    (lambda: metrics.drift_concentration([-1.0, 2.0]), "profile"),
    (lambda: metrics.collapse_ratio([1.0]), "profile"),
    (lambda: metrics.seed_ci([1.0]), "values"),
    (lambda: metrics.effective_rank(np.array([[np.nan, 1.0], [1.0, 1.0]])), "X"),
])
def test_bad_inputs(call, name):
    with pytest.raises(ValueError, match=name):
        call()
