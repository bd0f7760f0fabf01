"""The chapter's computations: Monte Carlo checks of the exact maps (Part A), the feature-layer study of local
coarse-graining hierarchies at each law's registered depth (reading (a)), the layer-map study of one-layer
networks on a grid of input couplings (reading (b)), their tables and the benchmark. The evidence of the
registered claims is built in :mod:`rgnb.rg.evidence`.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import numpy as np

import torch

from rgnb.rg.block_sum import block_sum, block_sum_flow, fit_iid, sample_iid, standardised_cumulant
from rgnb.rg.config import (ACTIVATION, ARCHITECTURES, FAMILIES_CHAIN, FAMILIES_IID, LAW_BY_NAME, LAWS, MAP_CONFIGURATIONS,
                            MAP_GRID, OBJECTIVES, InputLaw, RGSizes)
from rgnb.rg.estimators import Fit
from rgnb.rg.gaussian_chain import fit_gaussian_chain, gaussian_chain_flow, sample_gaussian_chain, u_map
from rgnb.rg.ising import fit_ising_chain, ising_flow, rsmi_ising_optimum, sample_ising_chain
from rgnb.rg.networks import HierarchySpec, fit_hierarchies, sample_law, seed_data, train_hierarchy
from rgnb.rg.registry import DELTA
from rgnb.rg.theory import (block_sum_prediction, denoise_optimum_loss, feature_depth, fit_layer_map, natural_coupling,
                            rg_prediction)
from rgnb.validate import check_choice, check_float

# --------------------------------------------------------------------------------------------- #
# Monte Carlo checks of the exact maps (Part A)
# --------------------------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class MapCheck:
    """Per RG step: the map's prediction, the Monte Carlo estimate and its SE, for named parameters."""

    family: str
    steps: np.ndarray            # (n_steps + 1,)
    predicted: dict              # name -> (n_steps + 1,)
    estimate: dict
    se: dict

    def z(self) -> dict:
        """|estimate - predicted| / SE per parameter and step."""
        return {k: np.abs(self.estimate[k] - self.predicted[k]) / self.se[k] for k in self.predicted}

    def max_z(self) -> float:
        return float(max(np.max(v) for v in self.z().values()))


def _collect(fits: list[Fit], names: tuple) -> tuple[dict, dict]:
    return ({k: np.array([f.value[k] for f in fits]) for k in names},
            {k: np.array([f.se[k] for f in fits]) for k in names})


def check_ising_decimation(K: float, h: float, sz: RGSizes, seed: int = 0) -> MapCheck:
    """Sample the chain, decimate ``sz.rg_steps`` times, re-estimate (K, h) at every step vs the map."""
    s = sample_ising_chain(K, h, sz.n_chains, sz.chain_length, seed=seed)
    fits = []
    for _ in range(sz.rg_steps + 1):
        fits.append(fit_ising_chain(s))
        s = s[:, ::2]
    Kf, hf = ising_flow(K, h, sz.rg_steps)
    est, se = _collect(fits, ("K", "h"))
    return MapCheck("ising", np.arange(sz.rg_steps + 1), {"K": Kf, "h": hf}, est, se)


def check_gaussian_decimation(r: float, K: float, h: float, sz: RGSizes, seed: int = 0) -> MapCheck:
    """Sample the Gaussian chain, decimate, re-estimate ``(r, K, h, u)`` vs the map at every step."""
    x = sample_gaussian_chain(r, K, h, sz.n_chains, sz.chain_length, seed=seed)
    fits = []
    for _ in range(sz.rg_steps + 1):
        fits.append(fit_gaussian_chain(x))
        x = x[:, ::2]
    rf, Kf, hf = gaussian_chain_flow(r, K, h, sz.rg_steps)
    pred = {"r": rf, "K": Kf, "h": hf, "u": 2 * Kf / rf}
    est, se = _collect(fits, tuple(pred))
    return MapCheck("gauss", np.arange(sz.rg_steps + 1), pred, est, se)


def check_block_sum(family: str, params: tuple, sz: RGSizes, seed: int = 0) -> MapCheck:
    """Sample i.i.d. draws, block-sum with b^{-1/2} rescaling, re-estimate vs the exact flow."""
    check_choice("family", family, FAMILIES_IID)
    x = sample_iid(family, params, sz.n_iid, seed=seed)
    flow = block_sum_flow(family, params, sz.rg_steps)
    fits = []
    for t in range(sz.rg_steps + 1):
        fits.append(fit_iid(x, family, a=flow[t, 1] if family == "poisson" else 1.0, n_groups=sz.n_groups))
        x = block_sum(x)
    pred = {}
    if family == "normal":
        pred["mean"], pred["var"] = flow[:, 0], flow[:, 1]
    else:
        pred["shape" if family == "gamma" else "lam"] = flow[:, 0]
        if family == "gamma":
            pred["scale"] = flow[:, 1]
    pred["skew"] = np.array([standardised_cumulant(family, tuple(p), 3) for p in flow])
    pred["exkurt"] = np.array([standardised_cumulant(family, tuple(p), 4) for p in flow])
    est, se = _collect(fits, tuple(pred))
    return MapCheck(family, np.arange(sz.rg_steps + 1), pred, est, se)


def u_eigenvalue_error(eps: float = 1e-6) -> float:
    """``|finite-difference du'/du at u* = 1 - 4|`` (one-sided, from below)."""
    eps = check_float("eps", eps, 0.0, 0.1, low_open=True)
    return abs((u_map(1.0) - u_map(1.0 - eps)) / eps - 4.0)


def local_optimum_prediction(law_name: str, objective: str, n_layers: int) -> np.ndarray:
    """What the exact optimum of the local objective predicts per layer, where we can derive it; nan elsewhere.

    Gaussian chain, denoise: every layer computes the pair sum (linear-Gaussian optimum), so layer l holds
    block sums of ``2^l`` sites. Ising, rsmi: layer 1 is the exact RSMI optimum over binary coarse
    variables (decimation, found by enumeration); deeper layers are not derived. Gamma, denoise: the
    linear optimum is degenerate (any direction of the pair), no prediction.
    """
    law = LAW_BY_NAME[check_choice("law_name", law_name, tuple(LAW_BY_NAME))]
    check_choice("objective", objective, OBJECTIVES)
    out = np.full(n_layers + 1, np.nan)
    out[0] = rg_prediction(law_name, 0)[0]
    if law.family == "gauss" and objective == "denoise":
        out[:] = block_sum_prediction(law_name, n_layers)
    elif law.family == "ising" and objective == "rsmi":
        out[1] = rsmi_ising_optimum(law.param).theta_optimal
    return out


# --------------------------------------------------------------------------------------------- #
# The feature-layer study (reading (a)) and the layer-map study (reading (b))
# --------------------------------------------------------------------------------------------- #
def configurations() -> list[tuple[str, str, str]]:
    """Every (law, objective, architecture) trained; RSMI is undefined on i.i.d. data."""
    return [(law.name, o, a) for law in LAWS for o in OBJECTIVES for a in ARCHITECTURES
            if not (o == "rsmi" and law.family == "gamma")]


def law_sizes(sz: RGSizes, law_name: str) -> RGSizes:
    """The sizes of one law's hierarchies: depth by the registered rule (:func:`feature_depth` at
    :data:`DELTA`), ``feature_units * 2^depth`` input sites."""
    L = feature_depth(law_name, DELTA)
    return dataclasses.replace(sz, n_layers=L, n_sites=sz.feature_units * 2 ** L)


@dataclasses.dataclass
class Study:
    """All configurations, keyed by (law, objective, architecture)."""

    sizes: RGSizes
    results: dict
    wall_s: float


def run_study(sz: RGSizes, base_seed: int = 0, progress: bool = True) -> Study:
    """Train every configuration (one batched job of ``sz.n_seeds`` hierarchies each, at the law's registered
    depth); data per (law, seed)."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    results, data = {}, {}
    for law, o, a in tqdm(configurations(), disable=not progress, desc="rg hierarchies"):
        lsz = law_sizes(sz, law)
        if law not in data:
            data = {law: seed_data(LAW_BY_NAME[law], lsz, base_seed)}
        results[(law, o, a)] = train_hierarchy(law, o, a, lsz, base_seed, data=data[law])
    return Study(sz, results, time.perf_counter() - t0)


@dataclasses.dataclass
class MapResult:
    """One layer-map configuration: per grid coupling g and seed s, layer 0 and layer 1 parameters of the trained
    and untrained one-layer networks (G, S), the local loss and its certified optimum, the gradient norm."""

    family: str
    objective: str
    architecture: str
    grid: np.ndarray           # (G,) input couplings x
    theta: np.ndarray          # (G, S, 2) trained: layer 0, layer 1
    theta_init: np.ndarray     # (G, S, 2) untrained
    loss: np.ndarray           # (G, S) final local loss
    optimum: np.ndarray        # (G, S) certified optimum (nan where none is known)
    grad_norm: np.ndarray      # (G, S)

    def maps(self, which: str = "theta") -> list:
        """Per seed, the fitted :class:`~rgnb.rg.theory.LayerMap` in the family's natural coupling."""
        th = getattr(self, which)
        x, y = natural_coupling(th[..., 0], self.family), natural_coupling(th[..., 1], self.family)
        return [fit_layer_map(x[:, s], y[:, s]) for s in range(th.shape[1])]


def _map_law(family: str, x: float) -> InputLaw:
    return InputLaw(f"{family}-map", family, math.atanh(x) if family == "ising" else x, "map")


def run_map_study(sz: RGSizes, base_seed: int = 0) -> dict:
    """Train one-layer networks (``sz.map_sites`` inputs) on every coupling of :data:`MAP_GRID` x ``n_seeds``
    seeds, one batched job per configuration of :data:`MAP_CONFIGURATIONS`; each (family, coupling, seed) has
    its own data. Returns ``{(family, objective, architecture): MapResult}``."""
    G, S = len(MAP_GRID), sz.n_seeds
    msz = dataclasses.replace(sz, n_sites=sz.map_sites, n_layers=1)
    data, out = {}, {}
    for cfg_index, (family, objective, arch) in enumerate(MAP_CONFIGURATIONS):
        if family not in data:
            xs = [sample_law(_map_law(family, x), sz.pool + sz.n_probe, sz.map_sites,
                             int(np.random.SeedSequence([base_seed, FAMILIES_CHAIN.index(family), g, s])
                                 .generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
                  for g, x in enumerate(MAP_GRID) for s in range(S)]
            data = {family: (torch.as_tensor(np.stack([x[: sz.pool] for x in xs])),
                             torch.as_tensor(np.stack([x[sz.pool:] for x in xs])))}
        pool, probe = data[family]
        spec = HierarchySpec(sz.map_sites, 1, arch, ACTIVATION[family], objective, sz.noise, sz.buffer, sz.env)
        state = np.random.SeedSequence([base_seed, 99, cfg_index]).generate_state(2, dtype=np.uint64)
        gen = torch.Generator().manual_seed(int(state[0] >> np.uint64(1)))
        r = fit_hierarchies(spec, family, pool, probe, msz, gen, int(state[1] >> np.uint64(1)), input_samples=None,
                            nulls=False)
        grid = np.asarray(MAP_GRID)
        opt = (denoise_optimum_loss(grid, sz.noise)[:, None].repeat(S, 1) if (family, objective) == ("gauss", "denoise")
               else np.full((G, S), np.nan))
        out[(family, objective, arch)] = MapResult(family, objective, arch, grid, r["theta"].reshape(G, S, 2),
                                                   r["theta_init"].reshape(G, S, 2), r["loss_final"][:, 0].reshape(G, S),
                                                   opt, r["grad_norm"].reshape(G, S))
    return out


def layer_table(study: Study) -> list[dict]:
    """Per configuration and layer: theta_l (mean, 95 % t-CI over seeds), decimation and block-sum images, the
    untrained hierarchy."""
    from rgnb.stats import mean_ci
    rows = []
    for (law, o, a), r in study.results.items():
        L = r.theta.shape[1] - 1
        pred, bs = rg_prediction(law, L), block_sum_prediction(law, L)
        for l in range(L + 1):
            rows.append({"law": law, "objective": o, "architecture": a, "layer": l, "theta": mean_ci(r.theta[:, l]),
                         "rg": float(pred[l]), "block_sum": float(bs[l]), "init": mean_ci(r.theta_init[:, l])})
    return rows


def layer_table_markdown(rows: list[dict], last_only: bool = True) -> str:
    """Markdown of :func:`layer_table` (the feature layer of each configuration, or every layer >= 1)."""
    head = "| law | objective | weights | layer | theta_l (95 % CI, trained) | decimation | block sum | untrained |"
    lines = [head, "|" + "---|" * 8]
    depth = {}
    for r in rows:
        depth[(r["law"], r["objective"], r["architecture"])] = r["layer"]
    for r in rows:
        if r["layer"] == 0 or (last_only and r["layer"] != depth[(r["law"], r["objective"], r["architecture"])]):
            continue
        bs = "" if not np.isfinite(r["block_sum"]) else f"{r['block_sum']:.3f}"
        lines.append(f"| {r['law']} | {r['objective']} | {r['architecture']} | {r['layer']} | {r['theta'].format(3)} | "
                     f"{r['rg']:.3f} | {bs} | {r['init'].format(3)} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- #
# Benchmark
# --------------------------------------------------------------------------------------------- #
def _ising_loop(K: float, h: float, n_chains: int, length: int, seed: int) -> np.ndarray:
    """Baseline: the same Markov-chain sampler with a Python loop over chains and sites."""
    T = np.array([[math.exp(K + h), math.exp(-K)], [math.exp(-K), math.exp(K - h)]])
    w, V = np.linalg.eigh(T)
    psi = np.abs(V[:, -1])
    P = T * psi[None, :] / (w[-1] * psi[:, None])
    pi0 = psi[0] ** 2 / np.sum(psi ** 2)
    rng = np.random.default_rng(seed)
    out = np.empty((n_chains, length), dtype=np.int8)
    for c in range(n_chains):
        up = rng.random() < pi0
        for t in range(length):
            if t:
                up = rng.random() < (P[0, 0] if up else P[1, 0])
            out[c, t] = 1 if up else -1
    return out


def benchmark_main(argv: list[str]) -> int:
    """Ising-chain sampling: Python-loop baseline vs the chain-vectorised sampler (sites per second)."""
    parser = argparse.ArgumentParser(prog="python -m rgnb bench rg", description=benchmark_main.__doc__)
    parser.add_argument("--chains", type=int, default=64)
    parser.add_argument("--length", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    base, fast = [], []
    for r in range(args.repeats):
        t = time.perf_counter(); _ising_loop(0.8, 0.1, args.chains, args.length, r); base.append(time.perf_counter() - t)
        t = time.perf_counter(); sample_ising_chain(0.8, 0.1, args.chains, args.length, r); fast.append(time.perf_counter() - t)
    sites = args.chains * args.length
    b, f = sites / np.median(base), sites / np.median(fast)
    print(f"ising sampler baseline: {b:.3g} sites/s, vectorised: {f:.3g} sites/s, ratio {f / b:.1f}x")
    return 0
