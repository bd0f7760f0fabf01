"""Tests of rgnb.findings: spectral tie, crossings, and the claims pipeline on a synthetic sweep."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from rgnb import chains, claims, findings


class FakeSweep:
    """Stand-in for rgnb.train.SweepResult with synthetic streams of known shape.

    Layer l of depth-L networks: the embedding h^0 has rank ~ `v` per position; trained networks at
    small xi shrink the stream onto fewer directions with depth, at large xi they do not.
    """

    def __init__(self, xis=(0.5, 1.0, 7.0), depths=(2, 4), seeds=(0, 1, 2), n=64, T=4, d=20):
        self.config = SimpleNamespace(xis=xis, depths=depths, seeds=seeds, kind="potts", vocab_size=6,
                                      mask=chains.DEFAULT_MASK)
        self.members = [{"xi": float(x), "seed": s, "depth": L, "kind": "potts"}
                        for L in depths for x in xis for s in seeds]
        self.n, self.T, self.d = n, T, d

    def streams(self, i, stage):
        m = self.members[i]
        rng = np.random.default_rng(1000 * i + (stage == "trained"))
        L = m["depth"]
        h = rng.standard_normal((L + 1, self.n, self.T, self.d))
        scale = np.ones((L + 1, self.d))
        if stage == "trained" and m["xi"] < 2:
            for l in range(L + 1):
                scale[l, max(2, self.d - 4 * l):] = 0.05  # fewer live directions with depth
        return (h * scale[:, None, None, :]).astype(np.float32)

    def probe_mask(self, xi):
        mask = np.zeros((self.n, self.T), dtype=bool)
        mask[:, 1:3] = True
        return mask


def test_relevant_modes_and_switch():
    # Potts: all V-1 modes relevant iff exp(-s/xi) > cut, i.e. xi > s / ln(1/cut).
    s = 2.0
    assert findings.relevant_modes("potts", 8, 1.0, s) == 0
    assert findings.relevant_modes("potts", 8, 3.0, s) == 7
    assert findings.spectral_switch("potts", 8, s) == pytest.approx(s / math.log(1 / findings.RELEVANCE_CUT), rel=1e-9)
    assert findings.soft_relevant_modes("potts", 8, 2.0, s) == pytest.approx(7 * math.exp(-2 * s / 2.0))
    # Ring: modes switch on one (pair) at a time, so the count is nondecreasing in xi.
    counts = [findings.relevant_modes("ring", 9, x, s) for x in (0.5, 1, 2, 4, 8, 16, 32)]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] > 0


def test_crossing_and_switch_point():
    xis = np.array([1.0, 2.0, 4.0, 8.0])
    assert findings.crossing(xis, [0.5, 0.7, 0.9, 1.1], 1.0) == pytest.approx(math.exp(np.log(4) + 0.5 * np.log(2)))
    assert findings.crossing(xis, [1.2, 1.3, 1.4, 1.5], 1.0) == -math.inf
    assert findings.crossing(xis, [0.2, 0.3, 0.4, 0.5], 1.0) == math.inf
    curves = np.array([[0.5, 0.7, 0.9, 1.1], [0.6, 0.8, 1.0, 1.2], [0.4, 0.6, 0.8, 1.0]])
    sw = findings.switch_point(xis, curves, 1.0)
    assert sw.low <= sw.estimate <= sw.high and 2.0 < sw.estimate < 8.0
    dev = findings.log_deviation(sw, sw.estimate)
    assert dev.estimate == pytest.approx(0.0) and dev.low == 0.0
    never = findings.switch_point(xis, np.zeros((3, 4)), 1.0)
    assert never.estimate == math.inf and findings.log_deviation(never, 2.0).low == math.inf
    with pytest.raises(ValueError, match="xis"):
        findings.crossing([2.0, 1.0], [0.0, 1.0], 0.5)


def test_pearson_rows():
    a = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(findings.pearson_rows(a, np.array([[2.0, 4.0, 6.0], [3.0, 2.0, 1.0]])), [1.0, -1.0])
    assert findings.pearson_rows([1.0, 1.0], [1.0, 2.0]) == 0.0


def test_claims_on_synthetic_sweep():
    fake = FakeSweep()
    sm = findings.measure_sweep(fake)
    assert sm.task_scale == pytest.approx(1.0)              # masked at t = 1, 2: one step from view
    assert sm.paper_chains() == (1.0, 7.0)
    prof = sm.profiles("erank_position", "trained", 1.0, 4)
    assert prof.shape == (3, 5) and (np.diff(prof, axis=1) < 0).all()   # built to collapse
    assert sm.profiles("drift_cka", "init", 7.0, 2).shape == (3, 2)
    rows = (findings.rank_collapse_claims(sm) + findings.selectivity_claims(sm, "potts", 6)
            + findings.kernel_drift_claims(sm))
    assert all(r.verdict in claims.VERDICTS for r in rows)
    by_claim = {r.claim.split(" (")[0]: r.verdict for r in findings.rank_collapse_claims(sm)}
    assert by_claim["Effective rank of the residual stream decreases monotonically with depth after training"] \
        == claims.REPRODUCED
    sel = findings.selectivity_claims(sm, "potts", 6)
    assert sel[0].verdict == claims.REPRODUCED          # collapse present at xi ~ 1 (built in)
    assert sel[1].verdict == claims.REPRODUCED          # absent at xi ~ 7 (random streams: R ~ 1)
    assert "| 0.5 | trained |" in findings.ratio_table(sm, 4)
    assert "| 7 | init |" in findings.concentration_table(sm, 4)
    with pytest.raises(ValueError, match="stage"):
        sm.profiles("erank_position", "final", 1.0, 4)
    with pytest.raises(ValueError, match="xi, depth"):
        sm.index(3.0, 4)


def test_measurements_cached(tmp_path):
    fake = FakeSweep(xis=(1.0, 7.0), depths=(2,), seeds=(0, 1))
    fake.key = "fake-sweep-key"
    first = findings.measure_sweep(fake, cache_dir=tmp_path)
    fake.streams = None  # a second call must not touch the streams
    second = findings.measure_sweep(fake, cache_dir=tmp_path)
    assert second.task_scale == first.task_scale
    for k in first.values:
        for a, b in zip(first.values[k], second.values[k]):
            np.testing.assert_array_equal(a, b)


def test_thresholds_are_module_constants():
    for t in findings.PRE_STATED + findings.POST_HOC:
        assert isinstance(t, claims.Threshold)
    assert "Spearman" in findings.thresholds_markdown((("x", findings.MONOTONE_RHO),))
