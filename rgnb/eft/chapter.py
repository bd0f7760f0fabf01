"""What the chapter ``kernel_eft`` computes: sizes per profile, the continuum-limit studies, the validity
windows, the transport surgery's attribution and the K1 estimators; the claims' evidence is in
:mod:`rgnb.eft.evidence`.

A *study* runs the exact sampler at every width n and depth L (eps = T / L) of a profile, reduces the
networks to per-layer moments on the common grid t_j = j T / L_0 (L_0 = the smallest L), and holds:
- the closures' exact recursions at each simulated eps and their continuum limits (one Richardson
  step from the two finest L: 2 y(L_max) - y(L_max / 2));
- the Monte Carlo extrapolated to eps -> 0 at each width (a weighted straight-line fit in eps, with
  its standard error), and to 1/n -> 0 (leading order) where a claim is about the leading order;
- with ``surgery``, the V4 residuals of the G-only closure and of the transport surgery per batch of
  networks (:mod:`rgnb.eft.surgery`), for the attribution of the residual term by term.
Quantities: "C" = E[G] (via the conditional covariance C, same mean, lower variance), "V4" = n Cov(G),
"K1" = n (E[G] - K0^eps) (against the infinite-width limit of the same L-layer network).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rgnb.eft import registry
from rgnb.eft.closures import (ClosureSolution, g_only_discrete, k0_discrete, sigma_closure_discrete, solve_k0)
from rgnb.eft.kernels import check_inputs, input_kernel, pack
from rgnb.eft.moments import (Extrapolation, extrapolate_to_zero, measured_k1, relative_residual, residual_in_se,
                              window_bounds)
from rgnb.eft.sampler import kernel_moments
from rgnb.eft.surgery import RESIDUALS, surgery_residuals
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
    single_T: float
    single_depths: tuple[int, ...]
    single_widths: tuple[int, ...]
    single_networks: int
    single_paths: int
    init_widths: tuple[int, ...]
    init_networks: int
    scan_sigma_w: tuple[float, ...]
    scan_width: int
    scan_networks: int
    val_cases: tuple[tuple[int, int], ...]
    val_networks: int
    bench_widths: tuple[int, ...]
    bench_repeats: int


SMOKE = EFTSizes(T=8.0, depths=(8, 16), widths=(32, 128), n_networks=800, n_groups=10, closure_paths=4_000,
                 single_T=4.0, single_depths=(8, 16), single_widths=(32,), single_networks=2_000, single_paths=4_000,
                 init_widths=(32,), init_networks=4_000, scan_sigma_w=(2.0,), scan_width=64, scan_networks=600,
                 val_cases=((16, 4),), val_networks=400, bench_widths=(256,), bench_repeats=1)
#: Reference: depth-time to T = 16 at eps = 1/4, 1/8, 1/16 (issue 24); the single-input study keeps the
#: stored T = 4 and eps = 1/8, 1/16, 1/32 (its claim is about K1 at t = T of that study).
REFERENCE = EFTSizes(T=16.0, depths=(64, 128, 256), widths=(32, 128, 512), n_networks=2_000, n_groups=20,
                     closure_paths=20_000, single_T=4.0, single_depths=(32, 64, 128), single_widths=(32, 64),
                     single_networks=30_000, single_paths=50_000, init_widths=(32, 128), init_networks=100_000,
                     scan_sigma_w=(0.5, 1.5, 2.0, 3.0), scan_width=128, scan_networks=2_000,
                     val_cases=((32, 8), (128, 4)), val_networks=1_000, bench_widths=(256, 1024), bench_repeats=2)
FULL = EFTSizes(T=16.0, depths=(64, 128, 256, 512), widths=(32, 64, 128, 256, 512, 1024), n_networks=200_000,
                n_groups=20, closure_paths=400_000, single_T=4.0, single_depths=(32, 64, 128, 256),
                single_widths=(32, 128, 512), single_networks=200_000, single_paths=400_000,
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
    surgery: dict = dataclasses.field(default_factory=dict)  # (n, L) -> {residual: (m, nt, p, p)} per batch

    @property
    def eps(self) -> np.ndarray:
        return self.T / np.asarray(self.depths, dtype=np.float64)


def run_study(X, activation: str, sigma_w: float, widths, depths, T: float, n_networks: int, n_groups: int,
              closure_paths: int, seed: int, device=None, closures: tuple[str, ...] = ("gonly", "sigma"),
              surgery: bool = False) -> Study:
    """Monte Carlo at every (width, depth), the closures' recursions at every depth and their
    continuum limits, and the extrapolations (module doc); with ``surgery``, the V4 residuals of the G-only
    closure and of the transport surgery per batch of networks (:mod:`rgnb.eft.surgery`)."""
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
    cuts: dict = {}
    for n in widths:
        for L in depths:
            st = L // L0
            mom = kernel_moments(X, n, L, T, sigma_w, activation, n_networks,
                                 seed=stream_seed(seed, f"mc-{activation}-{sigma_w:g}-n{n}-L{L}"), device=device,
                                 n_groups=n_groups)
            if surgery:
                cuts[(n, L)] = {k: v[:, ::st] for k, v in surgery_residuals(mom, K_in, sigma_w, activation).items()}
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
                 solve_k0(K_in, T, sigma_w, activation, t), mc, mc0, lead, cuts)


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


def simultaneous_z(n_points: int, alpha: float = 0.025) -> float:
    """Bonferroni critical value z_{1 - alpha / n}: a band estimate +- z se over ``n_points`` grid points covers
    every point at once with probability >= 1 - 2 alpha."""
    from scipy.stats import norm
    return float(norm.isf(alpha / check_int("n_points", n_points, 1, 1 << 20)))


def windows(study: Study, closure: str, q: str = "V4", tau: float = TAU) -> dict[int, tuple[float, float, float]]:
    """t*(n, tau) in the continuum limit with its noise band, per width: {n: (t*, t*_low, t*_high)}, from the
    noise-debiased residual (:func:`debiased_residual`) and its *simultaneous* band (+- z se, z Bonferroni over
    the grid points t > 0, :func:`simultaneous_z`): t* is read off a whole curve, so the band must hold on all
    of it at once."""
    z = simultaneous_z(len(study.t) - 1)
    out = {}
    for n in study.widths:
        r, r_se = debiased_residual(study, closure, q, n)
        r[0], r_se[0] = 0.0, 0.0  # t = 0: both closures start from the exact Wishart / zero values
        out[n] = window_bounds(study.t, r, r_se, tau, z=z)
    return out


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
# Transport surgery (rgnb.eft.surgery) in the continuum limit
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Attribution:
    """The V4 residuals of the G-only closure and of each surgery at one width, Monte Carlo at eps -> 0,
    noise-debiased and relative to ||V4_G-only||: ``residual[name]`` (nt,), and the share of the G-only
    residual each surgery removes, ``share[name] = 1 - r_name / r_G-only`` (nt,); standard errors by a
    jackknife over the batches of networks (every depth's batch j left out together)."""

    t: np.ndarray
    width: int
    residual: dict
    residual_se: dict
    share: dict
    share_se: dict


def _attribution_point(study: Study, width: int, keep: np.ndarray, se: dict) -> tuple[dict, dict]:
    eps = study.eps
    ref = np.linalg.norm(closure_values(study, "gonly", "V4").reshape(len(study.t), -1), axis=1)
    res = {}
    for name in RESIDUALS:
        y = np.stack([study.surgery[(width, L)][name][keep].mean(0) for L in study.depths])
        d = extrapolate_to_zero(eps, y, se[name])
        nt = len(study.t)
        sq = np.sum(d.value.reshape(nt, -1) ** 2, axis=1) - np.sum(d.se.reshape(nt, -1) ** 2, axis=1)
        res[name] = np.sqrt(np.maximum(sq, 0.0)) / ref
    with np.errstate(invalid="ignore", divide="ignore"):
        share = {name: 1.0 - res[name] / res["gonly"] for name in RESIDUALS if name != "gonly"}
    return res, share


def attribution(study: Study, width: int | None = None) -> Attribution:
    """:class:`Attribution` at ``width`` (default: the largest) from ``study.surgery`` (run_study(surgery=True))."""
    n = study.widths[-1] if width is None else width
    if not study.surgery or len(study.depths) < 2:
        raise ValueError("attribution needs a study run with surgery=True over >= 2 depths")
    m = study.surgery[(n, study.depths[0])]["gonly"].shape[0]
    se = {name: np.stack([study.surgery[(n, L)][name].std(0, ddof=1) / np.sqrt(m) for L in study.depths])
          for name in RESIDUALS}
    res, share = _attribution_point(study, n, np.ones(m, dtype=bool), se)
    jack_r = {k: [] for k in res}
    jack_s = {k: [] for k in share}
    for j in range(m):
        keep = np.arange(m) != j
        rj, sj = _attribution_point(study, n, keep, se)
        for k in rj:
            jack_r[k].append(rj[k])
        for k in sj:
            jack_s[k].append(sj[k])

    def jse(reps):
        a = np.stack(reps)
        with np.errstate(invalid="ignore"):
            return np.sqrt((m - 1) / m * np.sum((a - a.mean(0)) ** 2, axis=0))

    return Attribution(study.t, n, res, {k: jse(v) for k, v in jack_r.items()}, share,
                       {k: jse(v) for k, v in jack_s.items()})


# --------------------------------------------------------------------------------------------
# K1 at initialisation: the second estimator n (E[G] - K0_ODE) at the first grid time
# --------------------------------------------------------------------------------------------
def k1_small_t(study: Study, width: int) -> dict:
    """K1 at the first grid time t_1 = T / L_0 by the estimator n (E[G] - K0_ODE(t_1)): at each simulated depth
    (it carries the discretisation term n (K0^eps(t_1) - K0_ODE(t_1)) = n O(eps), also returned) and
    extrapolated to eps -> 0, which removes that term; against the continuum G-only K1(t_1). Packed (p,)
    arrays; rms z-scores of the G-only value against each estimate (with their sampling sd)."""
    j = 1
    k0 = pack(study.k0_ode[j])
    pred = pack(study.cont["gonly"].K1[j]) if "gonly" in study.cont else pack(study.disc["gonly"][study.depths[-1]].K1[j])
    rows = []
    for L in study.depths:
        m, se = study.mc[(width, L)]["C"]
        disc = pack(k0_discrete(study.K_in, L, study.T, study.sigma_w, study.activation)[L // study.depths[0] * j])
        rows.append({"L": L, "estimate": width * (m[j] - k0), "se": width * se[j],
                     "discretisation": width * (disc - k0)})
    if study.mc0:
        ext = study.mc0[width]["C"]
        rows.append({"L": None, "estimate": width * (ext.value[j] - k0), "se": width * ext.se[j],
                     "discretisation": np.zeros_like(k0)})
    for r in rows:
        z = (r["estimate"] - pred) / r["se"]
        r["z_gonly"] = float(np.sqrt(np.mean(z ** 2)))
        r["z_gonly_se"] = float(np.sqrt(np.sum(2 + 4 * z ** 2)) / (2 * z.size * max(r["z_gonly"], 1e-12)))
    return {"t": float(study.t[j]), "width": width, "gonly": pred, "rows": rows}


# --------------------------------------------------------------------------------------------
# The recorded GPU run
# --------------------------------------------------------------------------------------------
GPU_RECORD = "records/full_gpu.json"


def gpu_record_markdown() -> str:
    """The recorded full-size GPU run (``rgnb/eft/records/full_gpu.json``) in short: device, wall time and the
    sampler benchmark as a table (the whole record stays in the file), or a note when none is stored."""
    import json
    from pathlib import Path

    from rgnb.claims import markdown_table
    path = Path(__file__).parent / GPU_RECORD
    if not path.exists():
        return "No GPU record is stored."
    rec = json.loads(path.read_text())
    table = markdown_table(["width n", "exact sampler (networks x layers / s)", "weight matrices", "ratio"],
                           [[b["width"], f"{b['exact']:.3g}", f"{b['naive']:.3g}", f"{b['ratio']:.0f}x"]
                            for b in rec.get("bench", [])])
    return (f"Recorded on {rec.get('device', '?')} (torch {rec.get('torch', '?')}), profile {rec.get('profile', '?')}, "
            f"{rec.get('wall_s', float('nan')):.0f} s; the sampler at depth 8:\n\n{table}\n\nThe record's other "
            f"figures ({', '.join(k for k in rec if k not in ('bench', 'device', 'torch', 'profile', 'wall_s', 'command'))}) "
            "are from the chapter's earlier $T = 4$ protocol and are not used by any verdict.")
