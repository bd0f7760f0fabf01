"""The text tables the kernel-EFT chapter prints, as lines computed from its studies (no printing here).

Each function returns ``list[str]``; the chapter prints ``"\\n".join(lines)``. ``studies``: name ->
:class:`rgnb.eft.chapter.Study`; ``times``: the grid times shown (``T_SHOW``).
"""

from __future__ import annotations

import numpy as np

from rgnb.eft import chapter as ch
from rgnb.eft.kernels import pack
from rgnb.eft.moments import relative_residual, residual_in_se
from rgnb.eft.sampler import holm_min_p


def at_times(study, times) -> list[int]:
    """Indices of the study's grid times nearest ``times``."""
    return [int(np.argmin(np.abs(study.t - x))) for x in times]


def sampler_check_lines(results) -> list[str]:
    """The two-sample tests of the exact sampler against the weight-matrix simulation, and their Holm minimum."""
    lines = [f"n={r.width:4d} L={r.depth:3d} {r.entry}: KS D = {r.statistic:.4f}, p = {r.pvalue:.3f}" for r in results]
    return lines + [f"Holm-adjusted smallest p over {len(results)} tests: {holm_min_p(results):.3f}"]


def benchmark_lines(bench) -> list[str]:
    """The sampler benchmark's rows (networks x layers per second, naive and exact, and their ratio)."""
    return [f"n={r['width']:5d}: naive {r['naive']:10.4g}, exact {r['exact']:10.4g} networks x layers / s, "
            f"ratio {r['ratio']:.0f}x" for r in bench]


def v4_residual_lines(studies: dict, times) -> list[str]:
    """The V4 residual of each closure: continuum (relative / rms z at ``times``, at the largest width and at
    1/n -> 0), then at the simulated eps (recursion against networks at the same eps, largest width, t = T)."""
    lines = [f"V4 residual, continuum (eps -> 0): relative / rms z, at t = {tuple(times)}"]
    for name, st in studies.items():
        idx = at_times(st, times)
        for cl in [c for c in ("gonly", "sigma") if c in st.cont]:
            for n in [st.widths[-1]] + (["1/n->0"] if st.lead else []):
                if n == "1/n->0":
                    mc = st.lead["V4"]
                    ref = ch.closure_values(st, cl, "V4")
                    r, _ = relative_residual(mc.value, ref, mc.se)
                    z = residual_in_se(mc.value, ref, mc.se)
                else:
                    r, _, z = ch.residual(st, cl, "V4", n)
                lines.append(f"  {name:>16} {cl:>6} n={n!s:>7}: " + ", ".join(f"{r[i]:.3f} / {z[i]:.1f}" for i in idx))
    return lines


def v4_discrete_lines(studies: dict) -> list[str]:
    """The V4 residual at the simulated eps (recursion vs networks at the same eps), largest width, t = T."""
    lines = ["V4 residual at the simulated eps (recursion vs networks at the same eps), largest width, t = T:"]
    for name, st in studies.items():
        n = st.widths[-1]
        for L in st.depths:
            V, se = st.mc[(n, L)]["V4"]
            out = [f"{cl} {relative_residual(V, st.disc[cl][L].V4, se)[0][-1]:.3f}" for cl in ("gonly", "sigma")]
            lines.append(f"  {name} n={n} L={L:4d}: " + ", ".join(out))
    return lines


def surgery_share_lines(attribution: dict, studies: dict, times) -> list[str]:
    """The share of the G-only V4 residual each surgery removes, with its jackknife SE, at ``times``."""
    lines = []
    for name, a in attribution.items():
        idx = at_times(studies[name], times)
        lines.append(f"{name}, n = {a.width}: share of the G-only residual removed, at t = "
                     f"{', '.join(f'{x:g}' for x in times)}")
        lines += [f"  {key:>9} surgery: " + ", ".join(f"{a.share[key][i]:.2f} +- {a.share_se[key][i]:.2f}" for i in idx)
                  for key in ("transport", "source", "both")]
    return lines


def k1_init_lines(init: dict, studies: dict) -> list[str]:
    """K1 at the first layer (Monte Carlo against the G-only closure, in absolute units and rms z), then the
    second estimator n (E[G] - K0_ODE) at t_1, raw per depth and at eps -> 0."""
    lines = []
    for name, rows in init.items():
        for d in rows:
            lines.append(f"{name} n={d['width']:4d} eps={d['eps']:g}: MC K1(eps) = "
                         f"{np.array2string(d['mc'], precision=4)} +- {np.array2string(d['se'], precision=4)}")
            lines.append(f"{'':>10} G-only K1(eps) = {np.array2string(d['gonly'], precision=4)}; rms z G-only = "
                         f"{d['z_gonly']:.1f}, rms z of the exact value 0 = {d['z_exact']:.1f}")
    lines.append("second estimator, n (E[G] - K0_ODE) at t_1 (largest entry of the G-only K1): raw per L / eps -> 0")
    for name, st in studies.items():
        for n in st.widths:
            d = ch.k1_small_t(st, n)
            e = int(np.argmax(np.abs(d["gonly"])))
            cells = [f"L={r['L']}: {r['estimate'][e]:.3g} +- {r['se'][e]:.2g} (n O(eps) term {r['discretisation'][e]:.3g})"
                     if r["L"] is not None else f"eps->0: {r['estimate'][e]:.3g} +- {r['se'][e]:.2g}" for r in d["rows"]]
            lines.append(f"  {name} n={n:4d} t_1={d['t']:g}, G-only {d['gonly'][e]:.3g}: " + "; ".join(cells))
    return lines


def k1_final_lines(single, studies: dict, times) -> list[str]:
    """K1 at t = T: the single-input ReLU prediction against the measurement per depth and in the continuum,
    then each study's K1 residual per closure at ``times``."""
    lines = ["single-input ReLU, K1 at t = T: predicted (sigma closure + self-interaction, recursion at eps; +- the SE "
             "from its sampled neuron paths, shared by all layers) vs measured"]
    for L in single.depths:
        pred = pack(single.disc["sigma"][L].K1)[-1, 0]
        pse = single.disc["sigma"][L].extra["K1_se"][-1, 0]
        meas = ", ".join(f"n={n}: {single.mc[(n, L)]['K1'][0][-1, 0]:.2f} +- {single.mc[(n, L)]['K1'][1][-1, 0]:.2f}"
                         for n in single.widths)
        lines.append(f"  L={L:4d}: predicted {pred:.2f} +- {pse:.2f}; measured {meas}")
    if "sigma" in single.cont:
        mc = ch.continuum(single, "K1") if single.lead else ch.continuum(single, "K1", single.widths[0])
        lines.append(f"  continuum: predicted {pack(single.cont['sigma'].K1)[-1, 0]:.2f} +- "
                     f"{single.cont['sigma'].extra['K1_se'][-1, 0]:.2f}; measured (eps -> 0"
                     f"{', 1/n -> 0' if single.lead else ''}) {mc.value[-1, 0]:.2f} +- {mc.se[-1, 0]:.2f}")
    for name, st in studies.items():
        mc = st.lead["K1"] if st.lead else ch.continuum(st, "K1", st.widths[0])
        for cl in ("gonly", "sigma"):
            r, _ = relative_residual(mc.value, ch.closure_values(st, cl, "K1"), mc.se)
            z = residual_in_se(mc.value, ch.closure_values(st, cl, "K1"), mc.se)
            lines.append(f"  {name} K1 residual {cl:>6} at t = {', '.join(f'{x:g}' for x in times)}: "
                         + ", ".join(f"{r[i]:.2f} / z {z[i]:.1f}" for i in at_times(st, times)))
    return lines


def window_lines(studies: dict) -> list[str]:
    """The validity window t*(n, 10 %) of each closure with its simultaneous band, per width."""
    lines = []
    for name, st in studies.items():
        for cl in ("gonly", "sigma"):
            w = ch.windows(st, cl)
            lines.append(f"{name:>5} {cl:>6}: " + ", ".join(f"n={n}: {w[n][0]:g} [{w[n][1]:g}, {w[n][2]:g}]"
                                                          for n in st.widths))
    return lines
