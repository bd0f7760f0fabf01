"""What the chapter ``kernel_eft`` computes: sizes per profile, the continuum-limit studies, and its
evidence for the registered claims (``rgnb.eft.registry``) with the builder of their rows (:func:`claims_rows`).

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

from rgnb import effects, stats
from rgnb.claims import Evidence, evaluate
from rgnb.eft import registry
from rgnb.eft.closures import (ClosureSolution, g_only_discrete, k0_discrete, sigma_closure_discrete, solve_k0)
from rgnb.eft.kernels import check_inputs, input_kernel, pack
from rgnb.eft.moments import (Extrapolation, extrapolate_to_zero, measured_k1, relative_residual, residual_in_se,
                              window_bounds)
from rgnb.eft.sampler import TwoSampleResult, holm_min_p, kernel_moments
from rgnb.provenance import stream_seed
from rgnb.validate import check_choice, check_float, check_int, check_seed

CHAPTER = registry.CHAPTER
TAU = registry.TAU                      # tolerance of the validity window, fixed before any run
SAMPLER_ALPHA = registry.SAMPLER_ALPHA  # level of the exact-vs-naive two-sample family (Holm)
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
# Claims (verdicts v3): the evidence of each configuration for the specs of rgnb.eft.registry
# --------------------------------------------------------------------------------------------
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


def k0_evidence(study: Study, width: int | None = None) -> Evidence:
    """P3-K0 on one study: at leading order in 1/n (``width`` None, needs >= 2 widths) or at one width.
    Contrasts per grid time t > 0; positive control: the K0 of the Euler recursion at L = 4 on its grid."""
    ok, detail = _premise(study)
    if width is None and not study.lead:
        return Evidence(_config(study, "1/n -> 0"), {}, premise_met=False,
                        premise_detail="leading order in 1/n needs >= 2 widths")
    if not study.mc0:
        return Evidence(_config(study, "1/n -> 0" if width is None else f"n = {width}"), {}, premise_met=False,
                        premise_detail=detail)
    mc = continuum(study, "C", width)
    ref = pack(study.k0_ode)
    stride = (len(study.t) - 1) // 4
    euler = pack(k0_discrete(study.K_in, 4, study.T, study.sigma_w, study.activation))
    control = residual_contrasts(study.t[::stride], mc.value[::stride], mc.se[::stride], euler,
                                 study.n_networks, prefix="Euler L=4, ")
    contrasts = residual_contrasts(study.t, mc.value, mc.se, ref, study.n_networks)
    r, r_se = relative_residual(mc.value, ref, mc.se)
    return Evidence(_config(study, "1/n -> 0" if width is None else f"n = {width}"), contrasts,
                    statistic=stats.normal_ci(float(r[-1]), float(r_se[-1])), positive_control=control,
                    premise_met=ok, premise_detail=detail, n=study.n_networks, n_unit="networks per (n, L)",
                    note=f"r(T) = {r[-1]:.3g}, largest r over t = {np.nanmax(r):.3g} (shown, not tested)")


def v4_evidence(study: Study) -> Evidence:
    """P3-V4-O1 on one study: r(T) - noise floor at the largest width, Monte Carlo at eps -> 0."""
    ok, detail = _premise(study)
    n = study.widths[-1]
    if not study.mc0:
        return Evidence(_config(study, f"n = {n}"), {}, premise_met=False, premise_detail=detail)
    mc = continuum(study, "V4", n)
    ref = closure_values(study, "gonly", "V4")
    c = residual_contrasts(study.t[-1:], mc.value[-1:], mc.se[-1:], ref[-1:], study.n_networks, skip_zero=False)
    r, r_se = relative_residual(mc.value[-1:], ref[-1:], mc.se[-1:])
    floor, _ = noise_floor(mc.se[-1:], ref[-1:])
    return Evidence(_config(study, f"n = {n}"), {"noise floor": next(iter(c.values()))},
                    statistic=stats.normal_ci(float(r[0]), float(r_se[0])), premise_met=ok, premise_detail=detail,
                    n=study.n_networks, n_unit="networks per (n, L)",
                    note=f"r(T) = {r[0]:.3g}, noise floor {floor[0]:.2g}")


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
    """t*_sigma - t*_G-only as a normal Effect from the windows' bands ``(t*, t*_low, t*_high)``: each t* gets
    se = (t*_high - t*_low) / 3.92 (the band is the window of residual -+ 1.96 SE) and the grid's rounding
    dt / sqrt(12) (t* is only known to one grid step), in quadrature; the two closures' errors independent."""
    def se(w):
        return float(np.hypot((w[2] - w[1]) / (2 * 1.959963984540054), dt / np.sqrt(12.0)))
    return effects.normal(w_sigma[0] - w_gonly[0], float(np.hypot(se(w_sigma), se(w_gonly))), n)


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


def evidence(studies: dict, single: Study, scans: dict, init: dict, sampler_results: list[TwoSampleResult],
             primary: str = "relu") -> dict[str, tuple[Evidence, list[Evidence]]]:
    """Every claim's (primary evidence, other configurations), keyed by registry id.

    ``studies`` {act: Study} (3 inputs, sigma_w = 1), ``single`` the single-input ReLU study, ``scans``
    {sigma_w: Study} (tanh, G-only), ``init`` {act: [k1_first_layer(...) per width, smallest first]};
    ``primary`` the activation of the primary configuration (the registry's: ReLU)."""
    main = studies[primary]
    rest = [st for a, st in studies.items() if a != primary]
    out: dict[str, tuple[Evidence, list[Evidence]]] = {}
    out[registry.SAMPLER.id] = (sampler_evidence(sampler_results), [])
    out[registry.K0.id] = (k0_evidence(main), [k0_evidence(st) for st in rest]
                           + [k0_evidence(st, n) for st in studies.values() for n in st.widths])
    out[registry.V4.id] = (v4_evidence(main), [v4_evidence(st) for st in rest]
                           + [v4_evidence(sc) for _, sc in sorted(scans.items())])
    k = len(main.K_in)
    init_ev = {(a, i): k1_init_evidence(d, a, k) for a, ds in init.items() for i, d in enumerate(ds)}
    out[registry.K1_INIT.id] = (init_ev[(primary, 0)], [e for key, e in init_ev.items() if key != (primary, 0)])
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
