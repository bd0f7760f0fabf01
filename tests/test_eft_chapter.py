"""The chapter's claims (verdicts v3) on a tiny real study and on synthetic evidence: one row per
registered claim, decided by the primary configuration; the contrasts each spec declares; the K0
equivalence test against a closure equal to the truth, a wrong one and a blind positive control."""

import dataclasses

import numpy as np
import pytest

from rgnb import claims, effects, eft
from rgnb.claims import registry as claims_registry
from rgnb.eft import chapter as ch
from rgnb.eft import evidence as evid
from rgnb.eft import registry

WIDTHS, DEPTHS = (16, 32), (4, 8, 16)


@pytest.fixture(scope="module")
def built():
    X = eft.two_inputs()
    studies = {"relu": ch.run_study(X, "relu", 1.0, WIDTHS, DEPTHS, 2.0, 400, 5, 600, seed=1, surgery=True),
               "tanh": ch.run_study(X, "tanh", 1.0, WIDTHS, DEPTHS, 2.0, 400, 5, 600, seed=5, surgery=True)}
    single = ch.run_study(eft.single_input(), "relu", 1.0, WIDTHS, DEPTHS, 2.0, 400, 5, 600, seed=2,
                          closures=("gonly", "sigma", "sigma_noself"))
    scans = {1.5: ch.run_study(X, "tanh", 1.5, (16,), DEPTHS, 2.0, 200, 5, 600, seed=3, closures=("gonly",))}
    init = {a: [ch.k1_first_layer(X, a, 1.0, n, 0.5, 4_000, seed=4, n_groups=5) for n in WIDTHS]
            for a in ("relu", "tanh")}
    sampler = [eft.TwoSampleResult(8, 2, f"G_{i}", 0.1, p) for i, p in enumerate([0.004, 0.3, 0.5])]
    args = (studies, single, scans, init, sampler)
    rows = evid.claims_rows(*args, "smoke", events=[])
    return args, {r.id: r for r in rows}


def _rounded(x):
    return float(f"{x:.3g}")


def test_registry_is_static_and_registered():
    ids = [s.id for s in registry.REGISTRY]
    assert ids == ["eft-sampler-law", "P3-K0", "P3-K0-n", "P3-V4-O1", "P3-V4-transport", "P3-K1-depth", "P3-K1-init",
                   "ours-K1-sigma-self", "ours-window-widens"]
    events = claims_registry.load_history()
    for spec in registry.REGISTRY:
        claims_registry.check_registered(spec, events)  # raises if the hash is not the registered one
        assert spec.chapter == "kernel_eft"
        if spec.kind != "check":
            assert spec.contrasts and spec.margin_reason and spec.interval == "normal-se"
    assert registry.SAMPLER.kind == "check" and registry.SAMPLER.interval == "exact"
    # post hoc is derived from the history: the revised K1-at-initialisation statistic, and the V4 and window
    # statistics re-registered after their results (issue 24: union over t to T = 16, simultaneous bands)
    assert [s.id for s in registry.REGISTRY if claims_registry.post_hoc(s, events)[0]] == [
        "P3-V4-O1", "P3-K1-init", "ours-window-widens"]


def test_one_row_per_registered_claim(built):
    _, rows = built
    assert list(rows) == [s.id for s in registry.REGISTRY]
    for r in rows.values():
        assert r.verdict in claims.VERDICTS and r.chapter == "kernel_eft" and r.profile == "smoke"
        assert r.effects or r.verdict == claims.PREMISE_NOT_MET, r.id
        assert r.spec_hash == next(s for s in registry.REGISTRY if s.id == r.id).spec_hash()
    assert rows["P3-K0"].configuration == "ReLU, sigma_w = 1, 2 inputs, 1/n -> 0"
    assert [s["configuration"] for s in rows["P3-K0"].subrows] == ["tanh, sigma_w = 1, 2 inputs, 1/n -> 0"]
    # the finite-width reading: n = 128 where the profile has it, else the middle width; the other widths and
    # the 1/n-corrected references as sub-rows
    assert rows["P3-K0-n"].configuration == f"ReLU, sigma_w = 1, 2 inputs, n = {WIDTHS[1]}"
    sub = [s["configuration"] for s in rows["P3-K0-n"].subrows]
    assert "ReLU, sigma_w = 1, 2 inputs, n = 16" in sub and f"ReLU, sigma_w = 1, 2 inputs, n = {WIDTHS[1]}" not in sub
    assert "tanh, sigma_w = 1, 2 inputs, n = 32, against K0 + K1_G-only / n" in sub
    assert rows["P3-V4-O1"].holds.endswith("of 2")


def test_sampler_row_is_holm_adjusted(built):
    rows = built[1]
    r = rows["eft-sampler-law"]
    assert r.effects["value"]["estimate"] == pytest.approx(0.012)
    assert r.verdict == claims.REPRODUCED and r.kind == "check"


def test_k0_contrasts_every_grid_time_against_the_noise_floor(built):
    (studies, *_), rows = built
    st = studies["relu"]
    r = rows["P3-K0"]
    assert list(r.effects) == [f"t={t:g}" for t in st.t[1:]]
    mc = ch.continuum(st, "C")
    ref = eft.pack(st.k0_ode)
    rel, _ = eft.relative_residual(mc.value, ref, mc.se)
    floor, _ = evid.noise_floor(mc.se, ref)
    assert r.effects[f"t={st.t[-1]:g}"]["estimate"] == _rounded(rel[-1] - floor[-1])
    assert list(r.positive_control) == [f"Euler L=4, t={t:g}" for t in st.t[1:]]  # L0 = 4: the same grid


def test_v4_row_is_taken_at_the_widest_width(built):
    (studies, _, scans, *_), rows = built
    st = studies["relu"]
    r = rows["P3-V4-O1"]
    assert r.configuration.endswith(f"n = {max(WIDTHS)}")
    mc = ch.continuum(st, "V4", max(WIDTHS))
    ref = ch.closure_values(st, "gonly", "V4")
    rel, rel_se = eft.relative_residual(mc.value, ref, mc.se)
    floor, floor_se = evid.noise_floor(mc.se, ref)
    # the union over the test times t = 1, 2 (T = 2): the contrast with the largest Bonferroni lower bound,
    # its interval the simultaneous one
    (name, e), = r.effects.items()
    assert name == "noise floor (max over t in {1, 2})"
    idx = evid.tested_indices(st)
    assert list(st.t[idx]) == [1.0, 2.0]
    z2 = 2.241402727604947  # z_{1 - 0.025 / 2}
    lows = [rel[j] - floor[j] - z2 * np.hypot(rel_se[j], floor_se[j]) for j in idx]
    j = idx[int(np.argmax(lows))]
    assert e["estimate"] == _rounded(rel[j] - floor[j])
    assert e["low"] == pytest.approx(max(lows), rel=2e-3, abs=1e-4)
    assert r.measured["estimate"] == _rounded(rel[-1])
    assert r.subrows[-1]["configuration"] == "tanh, sigma_w = 1.5, 2 inputs, n = 16"


def test_k1_init_row_contrasts_with_the_exact_value(built):
    (*_, init, _), rows = built
    r = rows["P3-K1-init"]
    d = init["relu"][0]
    assert r.configuration.endswith(f"n = {min(WIDTHS)}")  # the most precise width, registered
    e = r.effects["exact value K1 = 0"]
    assert e["estimate"] == _rounded(d["z_gonly"] - d["z_exact"])
    assert e["high"] - e["estimate"] == pytest.approx(1.96 * np.hypot(d["z_gonly_se"], d["z_exact_se"]), rel=1e-2)
    # ReLU: D2F(K)[Wishart(K)] vanishes, so the G-only first layer equals the exact value
    assert np.abs(d["gonly"]).max() < 1e-4
    assert r.verdict == claims.NOT_REPRODUCED
    # tanh: the G-only first layer is off by eps s^2 D2F[W] / 2, many standard errors
    assert all(init["tanh"][i]["z_gonly"] > 3 + init["tanh"][i]["z_exact"] for i in range(len(WIDTHS)))
    assert [s["verdict"] for s in r.subrows
            if s["configuration"].startswith("tanh") and "estimator" not in s["configuration"]] == [claims.REPRODUCED] * 2
    assert r.post_hoc is False  # events=[] here; with the stored history it is post hoc (test above)


def test_self_interaction_row_tests_the_signed_deviation(built):
    (studies, single, *_), rows = built
    r = rows["ours-K1-sigma-self"]
    d, se = evid.pooled_k1_deviation(studies["relu"], "sigma")
    e = r.effects["networks' K1"]
    assert e["estimate"] == _rounded(d) and e["low"] == _rounded(d - 1.959963984540054 * se)
    assert set(r.positive_control) == {"G-only"}
    ev = evid.self_evidence(single)
    assert set(ev.positive_control) == {"G-only", "sigma, no self-interaction"}
    d0, se0 = evid.pooled_k1_deviation(single, "sigma_noself")
    d1, se1 = evid.pooled_k1_deviation(single, "sigma")
    assert d0 - d1 == pytest.approx(1.0, abs=1e-6)  # without the term (K1 = 0) the closure misses all of K1
    assert se0 == pytest.approx(se1)
    assert ev.positive_control["sigma, no self-interaction"].estimate == pytest.approx(d0)


def test_window_row_and_its_effect(built):
    (studies, *_), rows = built
    st = studies["relu"]
    n = max(WIDTHS)
    wg, ws = ch.windows(st, "gonly")[n], ch.windows(st, "sigma")[n]
    dt = float(st.t[1] - st.t[0])
    # the band is the simultaneous one: Bonferroni over the grid times t > 0
    r, r_se = ch.debiased_residual(st, "gonly", "V4", n)
    r[0], r_se[0] = 0.0, 0.0
    z = ch.simultaneous_z(len(st.t) - 1)
    assert z == pytest.approx(2.4977054744123265)  # z_{1 - 0.025 / 4}: four grid times in (0, 2]
    assert wg == eft.window_bounds(st.t, r, r_se, ch.TAU, z=z)
    assert ch.simultaneous_z(1) == pytest.approx(1.959963984540054)
    e = evid.window_effect(ws, wg, dt)
    assert e.estimate == pytest.approx(ws[0] - wg[0])
    assert rows["ours-window-widens"].effects["G-only window"]["estimate"] == _rounded(e.estimate)
    # the 95 % interval contains [low_s - high_G - dt, high_s + dt - low_G], centred on the point difference
    e = evid.window_effect((2.0, 0.5, 3.0), (1.0, 0.75, 1.25), 0.25)
    iv = e.interval()
    assert e.estimate == 1.0
    assert iv.low <= 0.5 - 1.25 - 0.25 + 1e-12 and iv.high >= 3.0 + 0.25 - 0.75 - 1e-12
    assert max(e.estimate - iv.low, iv.high - e.estimate) == pytest.approx(2.0)
    e = evid.window_effect((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), 0.5)  # known to a grid step only
    assert e.interval().low == pytest.approx(-0.5) and e.interval().high == pytest.approx(0.5)


def test_premise_needs_three_depths(built):
    st = built[0][0]["relu"]
    assert evid._premise(dataclasses.replace(st, depths=st.depths[:2]))[0] is False
    assert "L = (4, 8, 16)" in evid._premise(st)[1]
    ev = evid.v4_evidence(dataclasses.replace(st, depths=st.depths[:2]))
    assert claims.evaluate(registry.V4, ev, profile="smoke", events=[]).verdict == claims.PREMISE_NOT_MET


# ---------------------------------------------------------------- the K0 equivalence on synthetic data
def _k0_case(closure_factor: float, control_factor: float, seed: int = 0):
    """Monte Carlo of a known mean kernel (SE 0.2 % of each entry) against a closure and an Euler control that
    are the truth times a factor; returns the evidence of P3-K0."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 4.0, 17)
    truth = np.outer(1.0 + t, [1.0, 0.6, 0.0, 1.2, -0.4, 0.8]) + np.array([0, 0, 0.05, 0, 0, 0])
    se = 2e-3 * np.abs(truth) + 1e-4
    se[0] = 0.0
    mc = truth + rng.normal(size=truth.shape) * se
    contrasts = evid.residual_contrasts(t, mc, se, truth * closure_factor)
    s = slice(None, None, 4)
    control = evid.residual_contrasts(t[s], mc[s], se[s], truth[s] * control_factor, prefix="Euler L=4, ")
    return claims.Evidence("synthetic", contrasts, positive_control=control)


def test_k0_a_closure_equal_to_the_truth_passes_and_one_off_by_three_margins_does_not():
    ok = claims.evaluate(registry.K0, _k0_case(1.0, 1.3), profile="smoke", events=[])
    assert ok.verdict == claims.REPRODUCED
    assert all(abs(e["estimate"]) < 0.2 * registry.K0_MARGIN for e in ok.effects.values())
    off = claims.evaluate(registry.K0, _k0_case(1.0 / (1.0 + 3 * registry.K0_MARGIN), 1.3), profile="smoke",
                          events=[])
    assert off.verdict == claims.NOT_REPRODUCED


def test_k0_a_blind_positive_control_makes_the_test_vacuous():
    r = claims.evaluate(registry.K0, _k0_case(1.0, 1.0), profile="smoke", events=[])
    assert r.verdict == claims.VACUOUS


def test_k0_noise_floor_removes_the_bias_of_a_noisy_residual():
    t = np.array([1.0])
    truth = np.ones((1, 6))
    se = np.full((1, 6), 0.05)
    zs = np.random.default_rng(3).normal(size=(400, 6))
    est = [evid.residual_contrasts(t, truth + z * se, se, truth)["t=1"].estimate for z in zs]
    raw = [eft.relative_residual(truth + z * se, truth, se)[0][0] for z in zs]
    assert np.mean(raw) > 0.04 and abs(np.mean(est)) < 0.005  # floor ||se|| / ||ref|| = 0.05


def test_relabelling_other_configurations_does_not_change_the_primary_verdict(built):
    args, rows = built
    ev = evid.evidence(*args)
    for spec in registry.REGISTRY:
        primary, others = ev[spec.id]
        relabelled = [dataclasses.replace(e, configuration=f"config {i}") for i, e in enumerate(reversed(others))]
        a = claims.evaluate(spec, primary, others=others, profile="smoke", events=[])
        b = claims.evaluate(spec, primary, others=relabelled, profile="smoke", events=[])
        assert (a.verdict, a.p_value, a.effects, a.critical_margin, a.positive_control) == (
            b.verdict, b.p_value, b.effects, b.critical_margin, b.positive_control)
        assert sorted(s["verdict"] for s in a.subrows) == sorted(s["verdict"] for s in b.subrows)
        assert a == rows[spec.id]


def test_effects_are_normal_se_where_registered(built):
    args, _ = built
    for sid, (primary, others) in evid.evidence(*args).items():
        for e in [primary, *others]:
            kinds = {x.kind for x in e.contrasts.values()}
            assert kinds <= ({"exact"} if sid == "eft-sampler-law" else {"normal-se"}), sid
    assert effects.normal(1.0, 0.0).interval().low == 1.0


def test_sizes_per_profile():
    assert ch.sizes("full").n_networks >= 200_000
    for name in ("smoke", "reference", "full"):
        s = ch.sizes(name)
        assert all(L % s.depths[0] == 0 for L in s.depths)
    assert len(ch.sizes("reference").depths) >= 3 and ch.sizes("reference").depths[-1] == 2 * ch.sizes("reference").depths[-2]


def test_transport_row_is_the_share_the_surgery_removes(built):
    (studies, *_), rows = built
    st = studies["relu"]
    a = ch.attribution(st)
    r = rows["P3-V4-transport"]
    assert r.configuration.endswith(f"n = {max(WIDTHS)}")
    if r.verdict != claims.PREMISE_NOT_MET:
        e = r.effects["nothing removed (share 0)"]
        assert e["estimate"] == _rounded(a.share["transport"][-1])
        assert e["estimate"] == _rounded(1 - a.residual["transport"][-1] / a.residual["gonly"][-1])
    # the identity (both terms from the Monte Carlo) leaves a residual within noise at every t
    assert np.all(a.residual["both"] <= 3 * a.residual_se["both"] + 0.02)
    assert set(a.share) == {"transport", "source", "both"}


def test_transport_premise_fails_without_a_resolved_residual(built):
    st = built[0][0]["relu"]
    # a study whose G-only closure is exact: every surgery residual is noise, nothing to attribute
    flat = {key: {k: v - v.mean(0) for k, v in res.items()} for key, res in st.surgery.items()}
    e = evid.transport_evidence(dataclasses.replace(st, surgery=flat))
    assert e.premise_met is False and ("2 SE" in e.premise_detail or "vanishes" in e.premise_detail)


def test_k1_depth_and_small_t_rows(built):
    (studies, *_), rows = built
    r = rows["P3-K1-depth"]
    assert r.configuration == "ReLU, sigma_w = 1, 2 inputs, 1/n -> 0"
    assert list(r.effects) == ["noise floor (max over t in {1, 2})"]
    st = studies["tanh"]
    d = ch.k1_small_t(st, 32)
    raw, ext = d["rows"][0], d["rows"][-1]
    assert raw["L"] == st.depths[0] and ext["L"] is None and d["t"] == st.t[1]
    # the raw estimator carries n (K0^eps - K0_ODE), which the extrapolation removes
    k0 = eft.pack(st.k0_ode[1])
    disc = eft.pack(eft.k0_discrete(st.K_in, st.depths[0], st.T, 1.0, "tanh")[1])
    np.testing.assert_allclose(raw["discretisation"], 32 * (disc - k0))
    m, se = st.mc[(32, st.depths[0])]["C"]
    np.testing.assert_allclose(raw["estimate"], 32 * (m[1] - k0))  # against the ODE: the term is in it
    np.testing.assert_allclose(raw["se"], 32 * se[1])
    assert np.abs(raw["discretisation"]).max() > 0 and np.all(ext["discretisation"] == 0)
    sub = [s["configuration"] for s in rows["P3-K1-init"].subrows]
    assert f"tanh, sigma_w = 1, 2 inputs, n = 32, estimator n (E[G] - K0_ODE) at t = {st.t[1]:g}, eps -> 0" in sub


def test_tested_times_must_lie_on_the_grid(built):
    st = built[0][0]["relu"]
    assert list(st.t[evid.tested_indices(st)]) == [1.0, 2.0]
    coarse = dataclasses.replace(st, t=np.linspace(0.0, 2.0, 3) * 0.75)  # grid 0, 0.75, 1.5
    with pytest.raises(ValueError, match="not on the study's grid"):
        evid.tested_indices(coarse)


def test_simultaneous_window_band_covers_the_true_window():
    """A residual curve known exactly, observed with noise: the band of :func:`rgnb.eft.window_bounds` at the
    Bonferroni z covers the true window in >= 95 % of draws; the pointwise z = 1.96 band does not reach that."""
    t = np.linspace(0.0, 4.0, 41)
    truth = 0.1 * np.exp(t - 2.0)  # crosses tau = 0.1 at t = 2
    se = np.full_like(t, 0.01)
    se[0] = 0.0
    true_window = eft.validity_window(t, truth, 0.1)
    z_sim = ch.simultaneous_z(len(t) - 1)
    rng = np.random.default_rng(0)
    cover_sim = cover_pt = 0
    for _ in range(400):
        r = truth + rng.normal(size=t.size) * se
        _, lo, hi = eft.window_bounds(t, r, se, 0.1, z=z_sim)
        cover_sim += lo <= true_window <= hi
        _, lo, hi = eft.window_bounds(t, r, se, 0.1, z=1.96)
        cover_pt += lo <= true_window <= hi
    assert cover_sim / 400 >= 0.95
    assert cover_sim > cover_pt
