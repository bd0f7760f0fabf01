"""The chapter's claims builder on a tiny real study: every declared claim gets its row, from the
statistic it declares (widest width for V4, the exact first-layer null for K1, Holm for the sampler)."""

import dataclasses

import numpy as np
import pytest

from rgnb import claims, eft
from rgnb.eft import chapter as ch

WIDTHS, DEPTHS = (16, 32), (4, 8, 16)


@pytest.fixture(scope="module")
def built():
    X = eft.two_inputs()
    st = ch.run_study(X, "relu", 1.0, WIDTHS, DEPTHS, 2.0, 400, 5, 600, seed=1)
    single = ch.run_study(eft.single_input(), "relu", 1.0, WIDTHS, DEPTHS, 2.0, 400, 5, 600, seed=2,
                          closures=("gonly", "sigma", "sigma_noself"))
    scan = ch.run_study(X, "relu", 1.5, (16,), DEPTHS, 2.0, 200, 5, 600, seed=3, closures=("gonly",))
    init = {a: ch.k1_first_layer(X, a, 1.0, 16, 0.5, 4_000, seed=4, n_groups=5) for a in ("relu", "tanh")}
    sampler = [eft.TwoSampleResult(8, 2, f"G_{i}", 0.1, p) for i, p in enumerate([0.004, 0.3, 0.5])]
    rows = ch.claims_rows({"relu": st}, single, {1.5: scan}, init, sampler, "smoke")
    return st, single, scan, init, {r.id: r for r in rows}


def _rounded(x):
    return float(f"{x:.3g}")


def test_every_declared_claim_has_a_row(built):
    st, *_, rows = built
    want = {"eft-sampler-law", "P3-K0-all-depths-relu", "P3-V4-O1-relu", "P3-V4-O1-relu-sw1.5", "P3-K1-init-relu",
            "P3-K1-init-tanh", "ours-K1-sigma-self-relu-1-input", "ours-K1-sigma-self-relu-3-inputs"}
    want |= {f"ours-window-widens-relu-n{n}" for n in WIDTHS}
    assert set(rows) == want
    for r in rows.values():
        assert r.verdict in claims.VERDICTS and r.chapter == "kernel_eft" and r.profile == "smoke"
        assert r.source == "sanity check" or r.null, r.id


def test_sampler_row_is_holm_adjusted(built):
    rows = built[-1]
    assert rows["eft-sampler-law"].measured["estimate"] == pytest.approx(0.012)
    assert rows["eft-sampler-law"].verdict == claims.REPRODUCED


def test_v4_row_is_taken_at_the_widest_width(built):
    st, _, scan, _, rows = built
    r = rows["P3-V4-O1-relu"]
    assert r.note == f"n = {max(WIDTHS)}"
    mc = ch.continuum(st, "V4", max(WIDTHS))
    rel, _ = eft.relative_residual(mc.value, ch.closure_values(st, "gonly", "V4"), mc.se)
    assert r.measured["estimate"] == _rounded(rel[-1])
    assert rows["P3-V4-O1-relu-sw1.5"].note == "n = 16"


def test_k1_init_row_uses_the_exact_null(built):
    _, _, _, init, rows = built
    r = rows["P3-K1-init-relu"]
    assert r.measured["estimate"] == _rounded(init["relu"]["z_gonly"])
    assert r.null["null control"]["estimate"] == _rounded(init["relu"]["z_exact"])
    # ReLU: D2F(K)[Wishart(K)] vanishes, so the G-only first layer equals the exact value
    assert np.abs(init["relu"]["gonly"]).max() < 1e-4
    assert r.verdict in (claims.NOT_REPRODUCED, claims.INCONCLUSIVE)
    # tanh: the G-only first layer is off by eps s^2 D2F[W] / 2, many standard errors
    r = rows["P3-K1-init-tanh"]
    assert init["tanh"]["z_gonly"] > 3 + init["tanh"]["z_exact"]
    assert r.measured["estimate"] == _rounded(init["tanh"]["z_gonly"])
    assert r.null["null control"]["estimate"] == _rounded(init["tanh"]["z_exact"])


def test_self_interaction_row_has_both_nulls(built):
    _, single, _, _, rows = built
    r = rows["ours-K1-sigma-self-relu-1-input"]
    assert set(r.null) == {"G-only", "sigma, no self-interaction"}
    d0, se0 = ch.pooled_k1_deviation(single, "sigma_noself")
    d1, se1 = ch.pooled_k1_deviation(single, "sigma")
    assert d0 - d1 == pytest.approx(1.0, abs=1e-6)  # without the term (K1 = 0) the closure misses all of K1
    assert se0 == pytest.approx(se1)
    assert r.null["sigma, no self-interaction"]["estimate"] == _rounded(abs(d0))
    assert r.measured["estimate"] == _rounded(abs(ch.pooled_k1_deviation(single, "sigma")[0]))


def test_window_rows_bound_the_difference(built):
    st, *_, rows = built
    wg, ws = ch.windows(st, "gonly"), ch.windows(st, "sigma")
    for n in WIDTHS:
        r = rows[f"ours-window-widens-relu-n{n}"]
        assert r.measured["estimate"] == _rounded(ws[n][0] - wg[n][0])
        assert r.measured["low"] == _rounded(min(ws[n][1] - wg[n][2], ws[n][0] - wg[n][0]))
        assert r.measured["high"] == _rounded(max(ws[n][2] - wg[n][1], ws[n][0] - wg[n][0]))


def test_premise_needs_three_depths(built):
    st = built[0]
    assert ch._premise(dataclasses.replace(st, depths=st.depths[:2]))[0] is False
    assert "L = (4, 8, 16)" in ch._premise(st)[1]


def test_folded_interval():
    iv = ch.folded_interval(-0.1, 0.1)
    assert iv.estimate == pytest.approx(0.1) and iv.low == 0.0 and iv.high == pytest.approx(0.1 + 0.196, rel=1e-3)
    iv = ch.folded_interval(-1.0, 0.1)
    assert iv.low == pytest.approx(1 - 0.196, rel=1e-3) and iv.high == pytest.approx(1 + 0.196, rel=1e-3)


def test_sizes_per_profile():
    assert ch.sizes("full").n_networks >= 200_000
    for name in ("smoke", "reference", "full"):
        s = ch.sizes(name)
        assert all(L % s.depths[0] == 0 for L in s.depths)
    assert len(ch.sizes("reference").depths) >= 3 and ch.sizes("reference").depths[-1] == 2 * ch.sizes("reference").depths[-2]
