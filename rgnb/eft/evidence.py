"""The evidence of the chapter ``kernel_eft`` for its registered claims (``rgnb.eft.registry``, verdicts v3),
and the builder of their rows (:func:`claims_rows`).

Each ``*_evidence`` function turns one configuration of a :class:`rgnb.eft.chapter.Study` into an
:class:`rgnb.claims.Evidence`: the claim's statistic contrasted with what the same statistic shows where
the answer is known (the noise floor of a closure equal to the truth, the exact first-layer value, the G-only
window), with a positive control for absence claims. A statistic read at several depth-times is either
tested at every one of them (intersection-union: "accurate at all depths") or through a selection-aware
union (Bonferroni over the pre-stated :data:`TEST_TIMES`: "grows to O(1) at some t").
"""

from __future__ import annotations

import numpy as np

from rgnb import effects, stats
from rgnb.claims import Evidence, evaluate
from rgnb.eft import registry
from rgnb.eft.chapter import (Study, attribution, closure_values, continuum, k1_small_t, simultaneous_z,
                               windows)
from rgnb.eft.closures import k0_discrete
from rgnb.eft.kernels import pack
from rgnb.eft.moments import relative_residual
from rgnb.eft.sampler import TwoSampleResult, holm_min_p

def pooled_k1_deviation(study: Study, closure: str) -> tuple[float, float]:
    """Signed relative deviation of the networks' K1 at t = T from a closure's recursion at the same eps,
    projected on the sigma closure's prediction, d = <K1_MC - K1_closure, K1_sigma> / ||K1_sigma||^2,
    pooled by inverse variance over every (width, depth) cell; returns (d, se)."""
    ds, ws = [], []
    for (n, L), q in study.mc.items():
        k1, se = q["K1"][0][-1], q["K1"][1][-1]
        ref = pack(study.disc["sigma"][L].K1[-1])
        pred = pack(study.disc[closure][L].K1[-1])
        nrm = float(ref @ ref)
        d = float((k1 - pred) @ ref) / nrm
        s = float(np.sqrt(np.sum((se * ref) ** 2))) / nrm
        ds.append(d)
        ws.append(1.0 / s ** 2)
    ds, ws = np.array(ds), np.array(ws)
    return float(np.sum(ws * ds) / np.sum(ws)), float(1.0 / np.sqrt(np.sum(ws)))


def _premise(study: Study) -> tuple[bool, str]:
    chi = np.concatenate([np.ravel(study.mc0[n]["V4"].chi2) for n in study.widths]) if study.mc0 else np.array([])
    chi = chi[np.isfinite(chi)]
    med = float(np.median(chi)) if chi.size else float("nan")
    ok = len(study.depths) >= 3 and bool(chi.size) and med < 4.0
    return ok, f"eps -> 0 over L = {study.depths}; median chi2/dof of the fits {med:.2g}"


def noise_floor(se: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The relative residual a closure equal to the truth would show, ||se|| / ||ref|| per leading index,
    and its standard error (floor / sqrt(2 p), p entries: the spread of a chi statistic); (nt,) each."""
    nt = len(ref)
    s = np.asarray(se, dtype=np.float64).reshape(nt, -1)
    floor = np.linalg.norm(s, axis=1) / np.linalg.norm(np.asarray(ref).reshape(nt, -1), axis=1)
    return floor, floor / np.sqrt(2 * s.shape[1])


def residual_contrasts(t: np.ndarray, value: np.ndarray, se: np.ndarray, ref: np.ndarray, n: int = 0,
                       prefix: str = "", skip_zero: bool = True) -> dict[str, effects.Effect]:
    """Per grid time: the relative residual r(t) = ||value - ref|| / ||ref|| minus the noise floor of a closure
    equal to the truth (:func:`noise_floor`), as a normal-se Effect (independent errors in quadrature),
    named ``f"{prefix}t={t:g}"``. ``skip_zero``: leave out t = 0 (every closure starts from the exact value)."""
    t = np.asarray(t, dtype=np.float64)
    r, r_se = relative_residual(value, ref, se)
    floor, floor_se = noise_floor(se, ref)
    out = {}
    for j, tj in enumerate(t):
        if (skip_zero and tj == 0.0) or not np.isfinite(r[j]):
            continue
        out[f"{prefix}t={tj:g}"] = effects.difference(effects.normal(float(r[j]), float(r_se[j]), n),
                                                      effects.normal(float(floor[j]), float(floor_se[j]), n))
    return out


def _config(study: Study, extra: str = "") -> str:
    k = len(study.K_in)
    name = {"relu": "ReLU", "tanh": "tanh"}.get(study.activation, study.activation)
    return f"{name}, sigma_w = {study.sigma_w:g}, {k} input{'s' if k > 1 else ''}" + (f", {extra}" if extra else "")


#: Depth-times at which "grows to O(1) at some finite t" is tested (dyadic, fixed before any run; those in (0, T]).
TEST_TIMES = (1.0, 2.0, 4.0, 8.0, 16.0)


def tested_indices(study: Study) -> list[int]:
    """Grid indices of :data:`TEST_TIMES` inside (0, T] (each time must lie on the grid)."""
    out = []
    for tt in TEST_TIMES:
        if 0.0 < tt <= study.T + 1e-12:
            j = int(np.argmin(np.abs(study.t - tt)))
            if abs(study.t[j] - tt) > 1e-9:
                raise ValueError(f"test time t = {tt:g} is not on the study's grid (dt = {study.t[1]:g})")
            out.append(j)
    return out


def k0_reference(study: Study, width: int | None, correction: str | None = None) -> np.ndarray:
    """The mean kernel a claim compares with, packed (nt, p): K0 (the ODE), or K0 + K1 / n with the K1 of the
    continuum ``correction`` closure (at finite ``width`` only)."""
    ref = pack(study.k0_ode)
    if correction is None:
        return ref
    if width is None:
        raise ValueError("a 1/n correction needs a finite width")
    return ref + pack(study.cont[correction].K1) / width


def k0_evidence(study: Study, width: int | None = None, correction: str | None = None) -> Evidence:
    """P3-K0 (``width`` None: leading order in 1/n, needs >= 2 widths) and P3-K0-n (one width) on one study,
    against K0 or, with ``correction``, K0 + K1_closure / n. Contrasts per grid time t > 0; positive control:
    the K0 of the Euler recursion at L = 4 on its grid."""
    ok, detail = _premise(study)
    label = "1/n -> 0" if width is None else f"n = {width}"
    if correction is not None:
        label += f", against K0 + K1_{ {'gonly': 'G-only', 'sigma': 'sigma'}.get(correction, correction)} / n"
    if width is None and not study.lead:
        return Evidence(_config(study, label), {}, premise_met=False,
                        premise_detail="leading order in 1/n needs >= 2 widths")
    if not study.mc0 or (correction is not None and correction not in study.cont):
        return Evidence(_config(study, label), {}, premise_met=False, premise_detail=detail)
    mc = continuum(study, "C", width)
    ref = k0_reference(study, width, correction)
    stride = (len(study.t) - 1) // 4
    euler = pack(k0_discrete(study.K_in, 4, study.T, study.sigma_w, study.activation))
    control = residual_contrasts(study.t[::stride], mc.value[::stride], mc.se[::stride], euler,
                                 study.n_networks, prefix="Euler L=4, ")
    contrasts = residual_contrasts(study.t, mc.value, mc.se, ref, study.n_networks)
    r, r_se = relative_residual(mc.value, ref, mc.se)
    return Evidence(_config(study, label), contrasts,
                    statistic=stats.normal_ci(float(r[-1]), float(r_se[-1])), positive_control=control,
                    premise_met=ok, premise_detail=detail, n=study.n_networks, n_unit="networks per (n, L)",
                    note=f"r(T) = {r[-1]:.3g}, largest r over t = {np.nanmax(r):.3g} (shown, not tested)")


def crossing_time(t: np.ndarray, low: np.ndarray, margin: float) -> float | None:
    """The first grid time at which a lower confidence bound exceeds ``margin`` (None if it never does)."""
    above = np.nonzero(np.asarray(low) > margin)[0]
    return float(t[above[0]]) if above.size else None


def growth_evidence(study: Study, value: np.ndarray, se: np.ndarray, ref: np.ndarray, margin: float,
                    label: str, norm_ref: np.ndarray | None = None) -> Evidence:
    """"The relative residual of ``value`` (+- ``se``) against ``ref`` grows beyond ``margin`` at some t in
    :data:`TEST_TIMES`": the contrast r(t) - noise floor per test time, read through
    :func:`rgnb.effects.union_max` (Bonferroni over the test times, no selected maximum). ``norm_ref``: the
    array whose norm the residual is relative to (default ``ref``). The note gives the crossing time of the
    simultaneous band on the full grid and the log-log slope of r over the test times (the trend)."""
    ok, detail = _premise(study)
    if not study.mc0:
        return Evidence(_config(study, label), {}, premise_met=False, premise_detail=detail)
    idx = tested_indices(study)
    norm_ref = ref if norm_ref is None else norm_ref
    with np.errstate(invalid="ignore", divide="ignore"):  # t = 0: K1 = 0 exactly
        scale = (np.linalg.norm(ref.reshape(len(ref), -1), axis=1)
                 / np.linalg.norm(norm_ref.reshape(len(ref), -1), axis=1))
        r, r_se = relative_residual(value, ref, se)
        floor, floor_se = noise_floor(se, ref)
    r, r_se, floor, floor_se = r * scale, r_se * scale, floor * scale, floor_se * scale
    per_t = {f"t={study.t[j]:g}": effects.difference(effects.normal(float(r[j]), float(r_se[j]), study.n_networks),
                                                      effects.normal(float(floor[j]), float(floor_se[j]),
                                                                     study.n_networks)) for j in idx}
    chosen, union = effects.union_max(per_t)
    z = simultaneous_z(len(study.t) - 1)
    low = r - floor - z * np.hypot(r_se, floor_se)
    low[0] = -np.inf
    cross = crossing_time(study.t, low, margin)
    tt = study.t[idx]
    good = (r[idx] > 0) & np.isfinite(r[idx])
    slope = float(np.polyfit(np.log(tt[good]), np.log(r[idx][good]), 1)[0]) if good.sum() >= 2 else float("nan")
    shown = ", ".join(f"{study.t[j]:g}: {r[j]:.3g}" for j in idx)
    return Evidence(_config(study, label), {f"noise floor (max over t in {{{', '.join(f'{x:g}' for x in tt)}}})":
                                            union},
                    statistic=stats.normal_ci(float(r[idx[-1]]), float(r_se[idx[-1]])), premise_met=ok,
                    premise_detail=detail, n=study.n_networks, n_unit="networks per (n, L)",
                    note=f"r(t) at t = {shown}; decided at {chosen}; the simultaneous band crosses {margin:g} at t = "
                         f"{'never' if cross is None else f'{cross:g}'}; log-log slope {slope:.2g}")


def v4_evidence(study: Study, width: int | None = None) -> Evidence:
    """P3-V4-O1 on one study: the G-only V4 residual r(t) - noise floor at the largest width (or ``width``),
    Monte Carlo at eps -> 0, grows beyond the margin at some test time (:func:`growth_evidence`)."""
    n = study.widths[-1] if width is None else width
    if not study.mc0:
        return growth_evidence(study, np.zeros(0), np.zeros(0), np.zeros(0), registry.V4_MARGIN, f"n = {n}")
    mc = continuum(study, "V4", n)
    return growth_evidence(study, mc.value, mc.se, closure_values(study, "gonly", "V4"), registry.V4_MARGIN,
                           f"n = {n}")


def k1_depth_evidence(study: Study, width: int | None = None) -> Evidence:
    """P3-K1-depth on one study: ||K1_MC - K1_G-only|| / ||K1_MC|| (Monte Carlo at eps -> 0, leading order in
    1/n when ``width`` is None) minus its noise floor, beyond the margin at some test time."""
    label = "1/n -> 0" if width is None else f"n = {width}"
    if not study.mc0 or (width is None and not study.lead):
        return growth_evidence(study, np.zeros(0), np.zeros(0), np.zeros(0), registry.K1_DEPTH_MARGIN, label)
    mc = continuum(study, "K1", width)
    return growth_evidence(study, mc.value, mc.se, closure_values(study, "gonly", "K1"), registry.K1_DEPTH_MARGIN,
                           label, norm_ref=mc.value)


def transport_evidence(study: Study, width: int | None = None) -> Evidence:
    """P3-V4-transport on one study: the share of the G-only V4 residual at t = T that the transport surgery
    removes (jackknife SE). Premise: the continuum limit, and a G-only residual at T resolved (> 2 of its SE)."""
    n = study.widths[-1] if width is None else width
    ok, detail = _premise(study)
    if not study.surgery or not study.mc0:
        return Evidence(_config(study, f"n = {n}"), {}, premise_met=False, premise_detail=detail)
    a = attribution(study, n)
    rg, rg_se = float(a.residual["gonly"][-1]), float(a.residual_se["gonly"][-1])
    if ok and not rg > 2 * rg_se:
        ok, detail = False, (f"no residual to attribute: the debiased G-only residual at T is {rg:.3g} +- "
                             f"{rg_se:.2g} (not above 2 SE)")
    share, share_se = float(a.share["transport"][-1]), float(a.share_se["transport"][-1])
    if ok and not (np.isfinite(share) and np.isfinite(share_se)):
        ok, detail = False, "the G-only residual at T vanishes after debiasing in a jackknife replicate"
    if not ok:
        return Evidence(_config(study, f"n = {n}"), {}, premise_met=False, premise_detail=detail)
    e = effects.normal(share, share_se, study.n_networks)
    return Evidence(_config(study, f"n = {n}"), {"nothing removed (share 0)": e},
                    statistic=stats.normal_ci(share, share_se), premise_met=ok,
                    premise_detail=detail, n=study.n_networks, n_unit="networks per (n, L)",
                    note=f"at t = T: residual G-only {rg:.3g}, transport replaced {a.residual['transport'][-1]:.3g}, "
                         f"source replaced {a.residual['source'][-1]:.3g}, both (the identity) "
                         f"{a.residual['both'][-1]:.3g}; share removed by the source surgery "
                         f"{a.share['source'][-1]:.3g}")


def k1_small_t_evidence(study: Study, d: dict) -> list[Evidence]:
    """The second estimator's sub-rows of P3-K1-init (:func:`k1_small_t`): z_G-only - 1 (a correct prediction
    has rms z ~ 1; no exact value exists past the first layer), at the coarsest depth (raw) and at eps -> 0."""
    out = []
    for r in (d["rows"][0], d["rows"][-1]):
        which = f"L = {r['L']} (raw)" if r["L"] is not None else "eps -> 0"
        g = effects.normal(r["z_gonly"], r["z_gonly_se"], study.n_networks)
        out.append(Evidence(_config(study, f"n = {d['width']}, estimator n (E[G] - K0_ODE) at t = {d['t']:g}, "
                                           f"{which}"),
                            {"a correct prediction (rms z = 1)": g.shifted(1.0)},
                            statistic=stats.normal_ci(r["z_gonly"], r["z_gonly_se"]), premise_met=True,
                            premise_detail=f"n = {d['width']}, t = {d['t']:g}", n=study.n_networks,
                            n_unit="networks per (n, L)",
                            note=f"rms z of G-only {r['z_gonly']:.3g}; discretisation term n (K0^eps - K0_ODE) max "
                                 f"|.| = {np.abs(r['discretisation']).max():.2g}"))
    return out


def k1_init_evidence(d: dict, activation: str, k: int = 3, sigma_w: float = 1.0) -> Evidence:
    """P3-K1-init from :func:`k1_first_layer`'s output: z_G-only - z_exact (independent errors)."""
    g = effects.normal(d["z_gonly"], d["z_gonly_se"], int(d.get("n_networks", 0)))
    e = effects.normal(d["z_exact"], d["z_exact_se"], int(d.get("n_networks", 0)))
    name = {"relu": "ReLU", "tanh": "tanh"}.get(activation, activation)
    return Evidence(f"{name}, sigma_w = {sigma_w:g}, {k} inputs, n = {d['width']}",
                    {"exact value K1 = 0": effects.difference(g, e)},
                    statistic=stats.normal_ci(d["z_gonly"], d["z_gonly_se"]), premise_met=True,
                    premise_detail=f"n = {d['width']}, eps = {d['eps']:g}", n=int(d.get("n_networks", 0)),
                    n_unit="networks",
                    note=f"rms z: G-only {d['z_gonly']:.3g}, exact 0 {d['z_exact']:.3g}; G-only K1(t=eps) max |.| = "
                         f"{np.abs(d['gonly']).max():.2g}; MC SE {d['se'].max():.2g}")


def self_evidence(study: Study) -> Evidence:
    """ours-K1-sigma-self on one study: the signed pooled deviation of the sigma closure (with the
    self-interaction) and, as positive controls, that of the G-only closure and of the sigma closure
    without the self-interaction where the study carries it."""
    est, se = pooled_k1_deviation(study, "sigma")
    control = {"G-only": effects.normal(*pooled_k1_deviation(study, "gonly"), study.n_networks)}
    if "sigma_noself" in study.disc:
        control["sigma, no self-interaction"] = effects.normal(*pooled_k1_deviation(study, "sigma_noself"),
                                                               study.n_networks)
    return Evidence(_config(study), {"networks' K1": effects.normal(est, se, study.n_networks)},
                    positive_control=control, premise_met=True,
                    premise_detail=f"recursion at each simulated eps: L = {study.depths}, n = {study.widths}",
                    n=study.n_networks, n_unit="networks per (n, L)")


def window_effect(w_sigma: tuple[float, float, float], w_gonly: tuple[float, float, float], dt: float,
                  n: int = 0) -> effects.Effect:
    """t*_sigma - t*_G-only from the windows' simultaneous bands ``(t*, t*_low, t*_high)`` (:func:`windows`).

    The true crossing of each closure lies in [t*_low, t*_high + dt) (t* is the last grid time inside the
    window): so the difference lies in [low_sigma - high_G - dt, high_sigma + dt - low_G] with probability
    >= 95 % (two simultaneous 97.5 % bands). Returned as a normal effect centred on the point difference whose
    95 % interval contains that interval (se = the larger half-width / 1.96): conservative, no ad hoc se."""
    est = w_sigma[0] - w_gonly[0]
    lo = w_sigma[1] - w_gonly[2] - dt
    hi = w_sigma[2] + dt - w_gonly[1]
    return effects.normal(est, max(est - lo, hi - est) / 1.959963984540054, n)


def window_evidence(study: Study, width: int) -> Evidence:
    """ours-window-widens on one (study, width)."""
    ok, detail = _premise(study)
    if not study.mc0 or "sigma" not in study.cont:
        return Evidence(_config(study, f"n = {width}"), {}, premise_met=False, premise_detail=detail)
    wg, ws = windows(study, "gonly")[width], windows(study, "sigma")[width]
    dt = float(study.t[1] - study.t[0])
    censored = " (t*_sigma = T: censored at the end of the range)" if ws[0] >= study.T else ""
    return Evidence(_config(study, f"n = {width}"),
                    {"G-only window": window_effect(ws, wg, dt, study.n_networks)},
                    statistic=stats.Interval(ws[0], ws[1], ws[2], 0.95, "window band", study.n_networks),
                    premise_met=ok, premise_detail=detail, n=study.n_networks, n_unit="networks per (n, L)",
                    note=f"t*_G-only = {wg[0]:g} [{wg[1]:g}, {wg[2]:g}], t*_sigma = {ws[0]:g} [{ws[1]:g}, {ws[2]:g}] "
                         f"(T = {study.T:g}){censored}")


def sampler_evidence(results: list[TwoSampleResult]) -> Evidence:
    """eft-sampler-law: the Holm-adjusted smallest p of the two-sample family (exact)."""
    p = holm_min_p(results)
    return Evidence(f"{len(results)} KS tests over the (n, L) validation cases", {"value": effects.exact(p)},
                    statistic=stats.exact(p), n=len(results), n_unit="tests")


def primary_width(study: Study) -> int:
    """The width of P3-K0-n's primary configuration: n = 128 where the study has it (the chapter's canonical
    width, that of its first numeric look), else its middle width."""
    return 128 if 128 in study.widths else study.widths[len(study.widths) // 2]


def evidence(studies: dict, single: Study, scans: dict, init: dict, sampler_results: list[TwoSampleResult],
             primary: str = "relu") -> dict[str, tuple[Evidence, list[Evidence]]]:
    """Every claim's (primary evidence, other configurations), keyed by registry id.

    ``studies`` {act: Study} (3 inputs, sigma_w = 1, run with surgery), ``single`` the single-input ReLU study,
    ``scans`` {sigma_w: Study} (tanh, G-only), ``init`` {act: [k1_first_layer(...) per width, smallest first]};
    ``primary`` the activation of the primary configuration (the registry's: ReLU)."""
    main = studies[primary]
    rest = [st for a, st in studies.items() if a != primary]
    out: dict[str, tuple[Evidence, list[Evidence]]] = {}
    out[registry.SAMPLER.id] = (sampler_evidence(sampler_results), [])
    out[registry.K0.id] = (k0_evidence(main), [k0_evidence(st) for st in rest])
    n0 = primary_width(main)
    out[registry.K0_N.id] = (k0_evidence(main, n0),
                             [k0_evidence(st, n) for st in studies.values() for n in st.widths
                              if not (st is main and n == n0)]
                             + [k0_evidence(st, n, c) for st in studies.values() for n in st.widths
                                for c in ("gonly", "sigma") if c in st.cont])
    out[registry.V4.id] = (v4_evidence(main), [v4_evidence(st) for st in rest]
                           + [v4_evidence(sc) for _, sc in sorted(scans.items())])
    out[registry.V4_TRANSPORT.id] = (transport_evidence(main),
                                     [transport_evidence(main, n) for n in main.widths[:-1]]
                                     + [transport_evidence(st, n) for st in rest for n in st.widths])
    out[registry.K1_DEPTH.id] = (k1_depth_evidence(main), [k1_depth_evidence(st) for st in rest]
                                 + [k1_depth_evidence(st, n) for st in studies.values() for n in st.widths])
    k = len(main.K_in)
    init_ev = {(a, i): k1_init_evidence(d, a, k) for a, ds in init.items() for i, d in enumerate(ds)}
    small_t = [e for st in studies.values() for n in st.widths for e in k1_small_t_evidence(st, k1_small_t(st, n))]
    out[registry.K1_INIT.id] = (init_ev[(primary, 0)],
                                [e for key, e in init_ev.items() if key != (primary, 0)] + small_t)
    out[registry.SELF.id] = (self_evidence(main), [self_evidence(single)] + [self_evidence(st) for st in rest])
    out[registry.WINDOW.id] = (window_evidence(main, main.widths[-1]),
                               [window_evidence(main, n) for n in main.widths[:-1]]
                               + [window_evidence(st, n) for st in rest for n in st.widths])
    return out


def claims_rows(studies: dict, single: Study, scans: dict, init: dict, sampler_results: list[TwoSampleResult],
                profile: str, events: list[dict] | None = None) -> list:
    """One row per registered claim (``rgnb.eft.registry.REGISTRY``), decided by its primary configuration,
    the others as sub-rows (:func:`evidence` for the arguments). ``events``: the claims history (default:
    ``results/claims_history.json``)."""
    ev = evidence(studies, single, scans, init, sampler_results)
    return [evaluate(spec, ev[spec.id][0], others=ev[spec.id][1], profile=profile, events=events)
            for spec in registry.REGISTRY]
