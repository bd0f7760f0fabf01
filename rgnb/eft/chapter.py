"""What the chapter ``kernel_eft`` computes: sizes per profile, the continuum-limit studies, and its
declared claims (``CLAIMS``) with the builder of their rows (:func:`claims_rows`).

A *study* runs the exact sampler at every width n and depth L (eps = T / L) of a profile, reduces the
networks to per-layer moments on the common grid t_j = j T / L_0 (L_0 = the smallest L), and holds:
- the closures' exact recursions at each simulated eps and their continuum limits (one Richardson
  step from the two finest L: 2 y(L_max) - y(L_max / 2));
- the Monte Carlo extrapolated to eps -> 0 at each width (a weighted straight-line fit in eps, with
  its standard error), and to 1/n -> 0 (leading order) where a claim is about the leading order.
Quantities: "C" = E[G] (via the conditional covariance C, same mean, lower variance), "V4" = n Cov(G),
"K1" = n (E[G] - K0^eps) (against the infinite-width limit of the same L-layer network).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rgnb import stats
from rgnb.claims import ClaimSpec, evaluate
from rgnb.eft.closures import (ClosureSolution, g_only_discrete, k0_discrete, sigma_closure_discrete, solve_k0)
from rgnb.eft.kernels import check_inputs, input_kernel, pack
from rgnb.eft.moments import (Extrapolation, extrapolate_to_zero, measured_k1, relative_residual, residual_in_se,
                              window_bounds)
from rgnb.eft.sampler import TwoSampleResult, holm_min_p, kernel_moments
from rgnb.provenance import stream_seed
from rgnb.validate import check_choice, check_float, check_int, check_seed

CHAPTER = "kernel_eft"
TAU = 0.10            # tolerance of the validity window (relative residual), fixed before any run
SAMPLER_ALPHA = 0.01  # level of the exact-vs-naive two-sample family (Holm)
QUANTITIES = ("C", "V4", "K1")
#: Closures a study may carry: G-only, sigma-kernel with and without the self-interaction term.
CLOSURES = ("gonly", "sigma", "sigma_noself")


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EFTSizes:
    """Sizes of the chapter's runs (one table per profile). ``depths`` are multiples of ``depths[0]``,
    the last two in ratio 2 (the Richardson step of the closures)."""

    T: float
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    n_networks: int
    n_groups: int
    closure_paths: int
    single_widths: tuple[int, ...]
    single_networks: int
    init_widths: tuple[int, ...]
    init_networks: int
    scan_sigma_w: tuple[float, ...]
    scan_width: int
    scan_networks: int
    val_cases: tuple[tuple[int, int], ...]
    val_networks: int
    bench_widths: tuple[int, ...]
    bench_repeats: int


SMOKE = EFTSizes(T=4.0, depths=(8, 16), widths=(32, 128), n_networks=800, n_groups=10, closure_paths=4_000,
                 single_widths=(32,), single_networks=2_000, init_widths=(32,), init_networks=4_000,
                 scan_sigma_w=(2.0,), scan_width=64, scan_networks=600, val_cases=((16, 4),), val_networks=400,
                 bench_widths=(256,), bench_repeats=1)
REFERENCE = EFTSizes(T=4.0, depths=(32, 64, 128), widths=(32, 128, 512), n_networks=4_000, n_groups=20,
                     closure_paths=50_000, single_widths=(32, 64), single_networks=30_000, init_widths=(32, 128),
                     init_networks=100_000, scan_sigma_w=(2.0,), scan_width=128, scan_networks=2_000,
                     val_cases=((32, 8), (128, 4)), val_networks=1_000, bench_widths=(256, 1024), bench_repeats=2)
FULL = EFTSizes(T=4.0, depths=(32, 64, 128, 256), widths=(32, 64, 128, 256, 512, 1024), n_networks=200_000,
                n_groups=20, closure_paths=400_000, single_widths=(32, 128, 512), single_networks=200_000,
                init_widths=(32, 128, 512), init_networks=1_000_000, scan_sigma_w=(0.5, 1.5, 2.0, 3.0),
                scan_width=256, scan_networks=200_000, val_cases=((32, 16), (128, 16), (512, 8)),
                val_networks=5_000, bench_widths=(256, 1024, 4096), bench_repeats=5)
SIZES = {"smoke": SMOKE, "reference": REFERENCE, "full": FULL}


def sizes(profile: str) -> EFTSizes:
    """The sizes for a profile (``smoke``, ``reference``, ``full`` or ``auto``)."""
    from rgnb.profiles import sizes_for
    return sizes_for(SIZES, profile)


# --------------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------------
def _on_grid(sol: ClosureSolution, stride: int) -> ClosureSolution:
    extra = {k: v[::stride] for k, v in sol.extra.items() if isinstance(v, np.ndarray)}
    return ClosureSolution(sol.t[::stride], sol.K0[::stride], sol.V4[::stride], sol.K1[::stride], extra)


def _richardson(fine: ClosureSolution, half: ClosureSolution) -> ClosureSolution:
    ses = ("K1_se", "V4_se")
    extra = {k: 2 * fine.extra[k] - half.extra[k] for k in fine.extra if k in half.extra and k not in ses}
    for k in ses:
        if k in fine.extra:
            extra[k] = np.sqrt(4 * fine.extra[k] ** 2 + half.extra[k] ** 2)
    return ClosureSolution(fine.t, 2 * fine.K0 - half.K0, 2 * fine.V4 - half.V4, 2 * fine.K1 - half.K1, extra)


@dataclasses.dataclass(frozen=True)
class Study:
    """One activation, sigma_w and input set over widths x depths (see module doc). Arrays on the grid
    ``t`` (nt,); packed kernels (nt, p), covariances (nt, p, p)."""

    activation: str
    sigma_w: float
    K_in: np.ndarray
    T: float
    t: np.ndarray
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    n_networks: int
    disc: dict            # closure name -> {L: ClosureSolution on the grid}
    cont: dict            # closure name -> continuum ClosureSolution on the grid
    k0_ode: np.ndarray    # (nt, k, k)
    mc: dict              # (n, L) -> {q: (estimate, se)}
    mc0: dict             # n -> {q: Extrapolation in eps}
    lead: dict            # q -> Extrapolation in 1/n of mc0 (needs >= 2 widths)

    @property
    def eps(self) -> np.ndarray:
        return self.T / np.asarray(self.depths, dtype=np.float64)


def run_study(X, activation: str, sigma_w: float, widths, depths, T: float, n_networks: int, n_groups: int,
              closure_paths: int, seed: int, device=None, closures: tuple[str, ...] = ("gonly", "sigma")) -> Study:
    """Monte Carlo at every (width, depth), the closures' recursions at every depth and their
    continuum limits, and the extrapolations (module doc)."""
    X = check_inputs(X)
    seed = check_seed("seed", seed)
    sigma_w = check_float("sigma_w", sigma_w, 0.0, 1e2, low_open=True)
    T = check_float("T", T, 0.0, 1e3, low_open=True)
    depths = tuple(check_int("depth", L, 1, 1 << 14) for L in depths)
    widths = tuple(check_int("width", n, 1, 1 << 16) for n in widths)
    for c in closures:
        check_choice("closure", c, CLOSURES)
    L0 = depths[0]
    if any(L % L0 for L in depths) or len(set(depths)) != len(depths):
        raise ValueError(f"depths must be distinct multiples of depths[0] = {L0}, got {depths}")
    K_in = input_kernel(X)
    t = np.linspace(0.0, T, L0 + 1)
    disc: dict = {c: {} for c in closures}
    for L in depths:
        st = L // L0
        if "gonly" in closures:
            disc["gonly"][L] = _on_grid(g_only_discrete(K_in, L, T, sigma_w, activation), st)
        for c in ("sigma", "sigma_noself"):
            if c in closures:
                disc[c][L] = _on_grid(sigma_closure_discrete(
                    K_in, L, T, sigma_w, activation, closure_paths, stream_seed(seed, f"sigma-paths-L{L}"),
                    self_interaction=c == "sigma"), st)
    cont = {}
    if len(depths) >= 2 and depths[-1] == 2 * depths[-2]:
        for c in closures:
            cont[c] = _richardson(disc[c][depths[-1]], disc[c][depths[-2]])
    mc: dict = {}
    for n in widths:
        for L in depths:
            st = L // L0
            mom = kernel_moments(X, n, L, T, sigma_w, activation, n_networks,
                                 seed=stream_seed(seed, f"mc-{activation}-{sigma_w:g}-n{n}-L{L}"), device=device,
                                 n_groups=n_groups)
            mC, seC = mom.mean("C")
            V, seV = mom.ncov("G", "G")
            k1, sek1 = measured_k1(mom, k0_discrete(K_in, L, T, sigma_w, activation))
            mc[(n, L)] = {"C": (mC[::st], seC[::st]), "V4": (V[::st], seV[::st]), "K1": (k1[::st], sek1[::st])}
    mc0 = {}
    if len(depths) >= 2:
        eps = T / np.asarray(depths, dtype=np.float64)
        for n in widths:
            mc0[n] = {q: extrapolate_to_zero(eps, np.stack([mc[(n, L)][q][0] for L in depths]),
                                             np.stack([mc[(n, L)][q][1] for L in depths])) for q in QUANTITIES}
    lead = {}
    if len(widths) >= 2 and mc0:
        inv_n = 1.0 / np.asarray(widths, dtype=np.float64)
        lead = {q: extrapolate_to_zero(inv_n, np.stack([mc0[n][q].value for n in widths]),
                                       np.stack([mc0[n][q].se for n in widths])) for q in QUANTITIES}
    return Study(activation, sigma_w, K_in, T, t, depths, widths, n_networks, disc, cont,
                 solve_k0(K_in, T, sigma_w, activation, t), mc, mc0, lead)


def continuum(study: Study, q: str, width: int | None = None) -> Extrapolation:
    """Monte Carlo of ``q`` at eps -> 0: at ``width``, or at leading order in 1/n when ``width`` is None."""
    check_choice("q", q, QUANTITIES)
    return study.lead[q] if width is None else study.mc0[width][q]


def closure_values(study: Study, closure: str, q: str, depth: int | None = None) -> np.ndarray:
    """A closure's prediction of ``q`` on the grid: continuum (``depth`` None) or its recursion at ``depth``."""
    sol = study.cont[closure] if depth is None else study.disc[closure][depth]
    return {"C": pack(sol.K0), "V4": sol.V4, "K1": pack(sol.K1)}[check_choice("q", q, QUANTITIES)]


def residual(study: Study, closure: str, q: str, width: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Continuum residual of a closure against Monte Carlo: relative (||MC - closure|| / ||closure||),
    its standard error, and in standard errors (rms z); each (nt,)."""
    mc = continuum(study, q, width)
    ref = closure_values(study, closure, q)
    r, r_se = relative_residual(mc.value, ref, mc.se)
    return r, r_se, residual_in_se(mc.value, ref, mc.se)


def debiased_residual(study: Study, closure: str, q: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The continuum relative residual with the noise removed, sqrt(max(r^2 - f^2, 0)) with
    f = ||SE|| / ||closure|| (E||d + noise||^2 = ||d||^2 + ||SE||^2; SE: the Monte Carlo's and, for the sigma
    closure, that of its sampled neuron paths), and its standard error; (nt,) each."""
    mc = continuum(study, q, width)
    ref = closure_values(study, closure, q)
    r, r_se = relative_residual(mc.value, ref, mc.se)
    nt = len(ref)
    noise = np.sum(mc.se.reshape(nt, -1) ** 2, axis=1)
    closure_se = study.cont[closure].extra.get(f"{q}_se") if q in ("V4", "K1") else None
    if closure_se is not None:  # the sigma closure's own path-sampling noise
        noise = noise + np.sum(np.asarray(closure_se).reshape(nt, -1) ** 2, axis=1)
    floor = np.sqrt(noise) / np.linalg.norm(ref.reshape(nt, -1), axis=1)
    deb = np.sqrt(np.maximum(r ** 2 - floor ** 2, 0.0))
    return deb, r_se


def windows(study: Study, closure: str, q: str = "V4", tau: float = TAU) -> dict[int, tuple[float, float, float]]:
    """t*(n, tau) in the continuum limit with its noise band, per width: {n: (t*, t*_low, t*_high)}, from the
    noise-debiased residual (:func:`debiased_residual`) and its band +- 1.96 SE."""
    out = {}
    for n in study.widths:
        r, r_se = debiased_residual(study, closure, q, n)
        r[0], r_se[0] = 0.0, 0.0  # t = 0: both closures start from the exact Wishart / zero values
        out[n] = window_bounds(study.t, r, r_se, tau)
    return out


def relative_deviation(estimate: np.ndarray, se: np.ndarray, reference: np.ndarray, z: float = 1.96) -> np.ndarray:
    """Entry-wise relative deviation of a Monte Carlo estimate from a reference beyond its noise band:
    0 where the reference lies inside estimate +- z se, else (|estimate - reference| - z se) / |reference|."""
    gap = np.abs(estimate - reference)
    inside = gap <= z * se
    return np.where(inside, 0.0, (gap - z * se) / np.abs(reference))


def worst_relative_deviation(estimate: np.ndarray, se: np.ndarray, reference: np.ndarray) -> float:
    """The largest :func:`relative_deviation` over every entry and grid point."""
    deviations = relative_deviation(estimate, se, reference).ravel().tolist()
    worst = max(deviations)
    return float(worst)


def k1_first_layer(X, activation: str, sigma_w: float, width: int, eps: float, n_networks: int, seed: int,
                   device=None, n_groups: int = 20) -> dict:
    """K1 at the first layer (t = eps): Monte Carlo n (E[C^1] - K0^1) with its standard error, the
    G-only recursion's eps s^2 D2F(K_in)[Wishart(K_in)] / 2 and the exact value 0 (h^0 is exactly
    Gaussian, so E[S^0] = F(K_in)); packed (p,). Also the rms z-scores of both against Monte Carlo."""
    K_in = input_kernel(X)
    mom = kernel_moments(X, width, 1, eps, sigma_w, activation, n_networks, seed=seed, device=device,
                         n_groups=n_groups)
    k1, se = measured_k1(mom, k0_discrete(K_in, 1, eps, sigma_w, activation))
    pred = pack(g_only_discrete(K_in, 1, eps, sigma_w, activation).K1[1])
    out = {"width": width, "eps": eps, "n_networks": mom.n_networks, "mc": k1[1], "se": se[1], "gonly": pred}
    for name, ref in (("gonly", pred), ("exact", np.zeros_like(pred))):
        z = (k1[1] - ref) / se[1]
        z_rms = float(np.sqrt(np.mean(z ** 2)))
        out[f"z_{name}"] = z_rms
        # sampling sd of an rms z-score of p unit-variance entries with means ~ z: sqrt(sum(2 + 4 z^2)) / (2 p z_rms)
        out[f"z_{name}_se"] = float(np.sqrt(np.sum(2 + 4 * z ** 2)) / (2 * z.size * max(z_rms, 1e-12)))
    return out


# --------------------------------------------------------------------------------------------
# Declared claims (fixed before any run)
# --------------------------------------------------------------------------------------------
_CONT = "the comparison is in the continuum limit: Monte Carlo extrapolated to eps -> 0 over >= 3 depths"


def _spec(id_, source, claim, statistic, threshold, passes, premise, null_control, ci="normal-se", figure=""):
    return ClaimSpec(id=id_, chapter=CHAPTER, source=source, claim=claim, statistic=statistic, threshold=threshold,
                     passes=passes, premise=premise, null_control=null_control, ci_method=ci, figure=figure)


SAMPLER_SPEC = _spec(
    "eft-sampler-law", "sanity check", "The conditional-Gaussian sampler has the law of the weight-matrix network",
    "Holm-adjusted smallest p of KS two-sample tests on every entry of G^L (exact vs naive, several (n, L))",
    SAMPLER_ALPHA, "above", "independent seeds for the two samplers", "", ci="exact", figure="fig-eft-sampler")


def k0_spec(act: str) -> ClaimSpec:
    return _spec(f"P3-K0-all-depths-{act}", "P3", f"K0 is accurate at all depths ({act})",
                 "max over t <= T of ||E[G] - K0_ODE|| / ||K0_ODE||, Monte Carlo at eps -> 0 and 1/n -> 0", 0.02,
                 "below", _CONT, "K0 of the Euler recursion at L = 4 (an O(eps) error the test must detect)",
                 figure="fig-eft-k0")


def v4_spec(act: str, sigma_w: float) -> ClaimSpec:
    tag = act if sigma_w == 1.0 else f"{act}-sw{sigma_w:g}"
    return _spec(f"P3-V4-O1-{tag}", "P3",
                 f"The G-only V4 residual grows to O(1) at finite depth-time ({act}, sigma_w = {sigma_w:g})",
                 "||n Cov(G) - V4_G-only|| / ||V4_G-only|| at t = T, Monte Carlo at eps -> 0 (largest width)",
                 0.3, "above", _CONT,
                 "the Monte Carlo noise alone: the residual of a closure equal to the truth (||SE|| / ||V4||)",
                 figure="fig-eft-v4")


def k1_init_spec(act: str) -> ClaimSpec:
    return _spec(f"P3-K1-init-{act}", "P3", f"The G-only K1 is wrong already at initialisation ({act})",
                 "rms z-score over packed entries of K1_G-only - K1_MC at the first layer (t = eps)", 3.0,
                 "above", "the first layer of the main study's coarsest depth step",
                 "the exact first-layer value K1 = 0 (E[S^0] = F(K_in)) against the same Monte Carlo",
                 figure="fig-eft-k1")


def self_spec(case: str) -> ClaimSpec:
    return _spec(f"ours-K1-sigma-self-{case}", "ours",
                 f"The sigma-kernel closure with the self-interaction term predicts K1 ({case})",
                 "|<K1_MC - K1_closure, K1_sigma> / ||K1_sigma||^2| at t = T, K1_closure the closure's recursion at "
                 "the simulated eps, pooled (inverse variance) over every (n, L) of the profile", 0.15, "below",
                 "the closure's recursion at the networks' own depth step (no extrapolation needed)",
                 "the same statistic for the G-only closure and for the sigma closure without self-interaction",
                 figure="fig-eft-self")


def widen_spec(act: str, width: int) -> ClaimSpec:
    return _spec(f"ours-window-widens-{act}-n{width}", "ours",
                 f"The sigma-kernel closure widens the V4 validity window ({act}, n = {width})",
                 f"t*_sigma(n, {TAU:g}) - t*_G-only(n, {TAU:g}) for V4, continuum limit, noise-debiased residual (band +- 1.96 SE)",
                 0.0, "above", _CONT, "the G-only closure against itself (difference 0 by construction)",
                 figure="fig-eft-window")


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


def folded_interval(d: float, se: float) -> stats.Interval:
    """|d| with the 95 % normal interval of d folded at 0 (a magnitude's interval)."""
    iv = stats.normal_ci(d, se)
    lo, hi = sorted((abs(iv.low), abs(iv.high)))
    if iv.low <= 0.0 <= iv.high:
        lo = 0.0
    return stats.Interval(abs(d), lo, hi, 0.95, "normal-se", 0)


def _premise(study: Study) -> tuple[bool, str]:
    chi = np.concatenate([np.ravel(study.mc0[n]["V4"].chi2) for n in study.widths]) if study.mc0 else np.array([])
    chi = chi[np.isfinite(chi)]
    med = float(np.median(chi)) if chi.size else float("nan")
    ok = len(study.depths) >= 3 and bool(chi.size) and med < 4.0
    return ok, f"eps -> 0 over L = {study.depths}; median chi2/dof of the fits {med:.2g}"


def _floor_interval(values: np.ndarray, se: np.ndarray, ref: np.ndarray) -> stats.Interval:
    """The relative residual a closure equal to the truth would show: ||se|| / ||ref||."""
    floor = float(np.linalg.norm(se) / np.linalg.norm(ref))
    return stats.normal_ci(floor, floor / np.sqrt(2 * se.size))


def claims_rows(studies: dict, single: Study, scans: dict, init: dict, sampler_results: list[TwoSampleResult],
                profile: str) -> list:
    """Evaluate every declared claim of the chapter; ``studies`` {act: Study} (k = 3 inputs, sigma_w = 1),
    ``single`` the single-input ReLU study, ``scans`` {sigma_w: Study} (tanh, G-only), ``init``
    {act: k1_first_layer(...) at the smallest width}."""
    rows = []
    p_adj = holm_min_p(sampler_results)
    rows.append(evaluate(SAMPLER_SPEC, stats.exact(p_adj), profile=profile, n=len(sampler_results), n_unit="tests"))
    for act, st in studies.items():
        ok, detail = _premise(st)
        # K0
        mc = continuum(st, "C") if st.lead else continuum(st, "C", st.widths[-1])
        ref = pack(st.k0_ode)
        r, r_se = relative_residual(mc.value, ref, mc.se)
        i = int(np.nanargmax(r))
        stride = (len(st.t) - 1) // 4
        r_null = relative_residual(mc.value[::stride], pack(k0_discrete(st.K_in, 4, st.T, st.sigma_w, act)),
                                   mc.se[::stride])
        j = int(np.nanargmax(r_null[0]))
        rows.append(evaluate(k0_spec(act), stats.normal_ci(float(r[i]), float(r_se[i])),
                             null=stats.normal_ci(float(r_null[0][j]), float(r_null[1][j])), premise_met=ok,
                             premise_detail=detail, profile=profile, n=st.n_networks, n_unit="networks per (n, L)"))
    for act, st in list(studies.items()) + [(f"tanh@{s:g}", sc) for s, sc in scans.items()]:
        ok, detail = _premise(st)
        n = st.widths[-1]
        mc = continuum(st, "V4", n)
        ref = closure_values(st, "gonly", "V4")
        r, r_se = relative_residual(mc.value, ref, mc.se)
        rows.append(evaluate(v4_spec(st.activation, st.sigma_w), stats.normal_ci(float(r[-1]), float(r_se[-1])),
                             null=_floor_interval(mc.value[-1], mc.se[-1], ref[-1]), premise_met=ok,
                             premise_detail=detail, profile=profile, n=st.n_networks, n_unit="networks per (n, L)",
                             note=f"n = {n}"))
    for act, d in init.items():
        rows.append(evaluate(k1_init_spec(act), stats.normal_ci(d["z_gonly"], d["z_gonly_se"]),
                             null=stats.normal_ci(d["z_exact"], d["z_exact_se"]), premise_met=True,
                             premise_detail=f"n = {d['width']}, eps = {d['eps']:g}", profile=profile,
                             n=int(d.get("n_networks", 0)), n_unit="networks",
                             note=f"G-only K1(t=eps) max |.| = {np.abs(d['gonly']).max():.2g}; MC SE {d['se'].max():.2g}"))
    for case, st in [("relu-1-input", single)] + [(f"{a}-3-inputs", s) for a, s in studies.items()]:
        est, se = pooled_k1_deviation(st, "sigma")
        nulls = {"G-only": stats.normal_ci(*pooled_k1_deviation(st, "gonly"))}
        if "sigma_noself" in st.disc:
            nulls["sigma, no self-interaction"] = stats.normal_ci(*pooled_k1_deviation(st, "sigma_noself"))
        rows.append(evaluate(self_spec(case), folded_interval(est, se), null={k: folded_interval(v.estimate, (
            v.high - v.estimate) / 1.959963984540054) for k, v in nulls.items()}, premise_met=True,
            premise_detail=f"recursion at each simulated eps: L = {st.depths}, n = {st.widths}", profile=profile,
            n=st.n_networks, n_unit="networks per (n, L)", note=f"signed pooled deviation {est:+.3f} +- {se:.3f}"))
    for act, st in studies.items():
        ok, detail = _premise(st)
        wg, ws = windows(st, "gonly"), windows(st, "sigma")
        for n in st.widths:
            est = ws[n][0] - wg[n][0]
            lo, hi = ws[n][1] - wg[n][2], ws[n][2] - wg[n][1]
            iv = stats.Interval(est, min(lo, est), max(hi, est), 0.95, "normal-se", st.n_networks)
            rows.append(evaluate(widen_spec(act, n), iv, null=stats.exact(0.0), premise_met=ok,
                                 premise_detail=detail, profile=profile, n=st.n_networks,
                                 n_unit="networks per (n, L)",
                                 note=f"t*_G-only = {wg[n][0]:g}, t*_sigma = {ws[n][0]:g} (T = {st.T:g})"))
    return rows


# --------------------------------------------------------------------------------------------
# The recorded GPU run
# --------------------------------------------------------------------------------------------
GPU_RECORD = "records/full_gpu.json"


def gpu_record_text() -> str:
    """The recorded full-size GPU figures (``rgnb/eft/records/full_gpu.json``) as text, or a note."""
    import json
    from pathlib import Path
    path = Path(__file__).parent / GPU_RECORD
    if not path.exists():
        return "no GPU record stored"
    return json.dumps(json.loads(path.read_text()), indent=1, sort_keys=True)
