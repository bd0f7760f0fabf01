"""The chapter's computations: Monte Carlo checks of the exact maps, the study of local
coarse-graining hierarchies, its tables, the evidence of every registered claim and the benchmark.

The claims are declared in :mod:`rgnb.rg.registry` (verdicts v3). Two readings of the authors'
theorem, each one row decided by the registered primary configuration, the other configurations
(law x objective x weights, never pooled) as sub-rows; per configuration over ``n_seeds``
hierarchies with independent data:

- **T_k** (layer l implements R^l): per layer ``l >= 1`` the per-seed deviation
  ``theta_l - R^l(theta_0)`` (theta the layer's gauge-invariant parameter, R the exact map), one
  sign-flip effect per layer; every layer within ``+-DELTA`` (two one-sided tests, intersection-union).
- **T** (the last layer sits at the fixed point): per seed ``theta_L - theta*``; same test.

Positive control of both: the same deviations of the untrained hierarchy (random layers, same seeds
and probes). The permuted-units hierarchy is measured (:func:`permutation_check`) but is not a
control: see the chapter.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import numpy as np

from rgnb import effects
from rgnb.claims.spec import Evidence
from rgnb.rg.block_sum import block_sum, block_sum_flow, fit_iid, sample_iid, standardised_cumulant
from rgnb.rg.config import FAMILIES_IID, FIXED_POINT, LAW_BY_NAME, LAWS, OBJECTIVES, ARCHITECTURES, RGSizes
from rgnb.rg.estimators import Fit, gaussian_spearman
from rgnb.rg.gaussian_chain import (fit_gaussian_chain, gaussian_chain_flow, gaussian_chain_lag1_after_block_sums,
                                    sample_gaussian_chain, u_map)
from rgnb.rg.ising import fit_ising_chain, ising_flow, rsmi_ising_optimum, sample_ising_chain
from rgnb.rg.networks import HierarchyResult, seed_data, train_hierarchy
from rgnb.rg.registry import PRIMARY, REGISTRY, configuration_name
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


# --------------------------------------------------------------------------------------------- #
# Predictions in the layers' gauge-invariant parameter
# --------------------------------------------------------------------------------------------- #
def rg_prediction(law_name: str, n_layers: int) -> np.ndarray:
    """``R^l(theta_0)`` for ``l = 0..n_layers`` in the layer parameter (decimation for chains, block sum
    for i.i.d.): ``tanh(K)^(2^l)`` (Ising, binary units: rank = Pearson correlation), ``(6/pi)
    arcsin(phi^(2^l) / 2)`` (Gaussian chain), ``(2 / sqrt k) 2^(-l/2)`` (Gamma skewness). (n_layers + 1,)."""
    law = LAW_BY_NAME[check_choice("law_name", law_name, tuple(LAW_BY_NAME))]
    l = np.arange(n_layers + 1)
    if law.family == "ising":
        return math.tanh(law.param) ** (2.0 ** l)
    if law.family == "gauss":
        return gaussian_spearman(law.param ** (2.0 ** l))
    return 2 / math.sqrt(law.param) * 2.0 ** (-l / 2)


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
        out[:] = gaussian_spearman(gaussian_chain_lag1_after_block_sums(law.param, n_layers))
    elif law.family == "ising" and objective == "rsmi":
        out[1] = rsmi_ising_optimum(law.param).theta_optimal
    return out


# --------------------------------------------------------------------------------------------- #
# The study
# --------------------------------------------------------------------------------------------- #
def configurations() -> list[tuple[str, str, str]]:
    """Every (law, objective, architecture) trained; RSMI is undefined on i.i.d. data."""
    return [(law.name, o, a) for law in LAWS for o in OBJECTIVES for a in ARCHITECTURES
            if not (o == "rsmi" and law.family == "gamma")]


@dataclasses.dataclass
class Study:
    """All configurations, keyed by (law, objective, architecture)."""

    sizes: RGSizes
    results: dict
    wall_s: float


def run_study(sz: RGSizes, base_seed: int = 0, progress: bool = True) -> Study:
    """Train every configuration (one batched job of ``sz.n_seeds`` hierarchies each); data per (law, seed)."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    results, data = {}, {}
    for law, o, a in tqdm(configurations(), disable=not progress, desc="rg hierarchies"):
        if law not in data:
            data = {law: seed_data(LAW_BY_NAME[law], sz, base_seed)}
        results[(law, o, a)] = train_hierarchy(law, o, a, sz, base_seed, data=data[law])
    return Study(sz, results, time.perf_counter() - t0)


def tk_statistic(theta: np.ndarray, law_name: str) -> np.ndarray:
    """Per seed ``max_{l >= 1} |theta_l - R^l(theta_0)|`` from layer parameters ``theta`` (E, L + 1): a summary for
    the unit tests of the hierarchies (the claim itself is tested per layer, :func:`tk_evidence`)."""
    pred = rg_prediction(law_name, theta.shape[1] - 1)
    return np.abs(theta[:, 1:] - pred[None, 1:]).max(axis=1)


def premise(res: HierarchyResult) -> tuple[bool, str]:
    """Premise of a trained-network row: every seed's summed local objective improved over initialisation."""
    gain = res.loss_init.sum(1) - res.loss_final.sum(1)
    ok = int(np.sum(gain > 0))
    return ok == gain.size, f"{ok}/{gain.size} seeds improved their local objectives (median gain {np.median(gain):.3g})"


def layer_table(study: Study) -> list[dict]:
    """Per configuration and layer: theta_l (mean, 95 % t-CI over seeds), R^l(theta_0), local-optimum prediction."""
    from rgnb.stats import mean_ci
    rows = []
    for (law, o, a), r in study.results.items():
        L = r.theta.shape[1] - 1
        pred, loc = rg_prediction(law, L), local_optimum_prediction(law, o, L)
        for l in range(L + 1):
            rows.append({"law": law, "objective": o, "architecture": a, "layer": l, "theta": mean_ci(r.theta[:, l]),
                         "rg": float(pred[l]), "local_optimum": float(loc[l]),
                         "init": mean_ci(r.theta_init[:, l])})
    return rows


def layer_table_markdown(rows: list[dict], objective: str | None = None) -> str:
    """Markdown of :func:`layer_table` (one line per configuration and layer >= 1)."""
    head = ("| law | objective | weights | layer | theta_l (95 % CI, trained) | R^l(theta_0) | local optimum | "
            "theta_l at init |")
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        if r["layer"] == 0 or (objective and r["objective"] != objective):
            continue
        loc = "" if not np.isfinite(r["local_optimum"]) else f"{r['local_optimum']:.3f}"
        lines.append(f"| {r['law']} | {r['objective']} | {r['architecture']} | {r['layer']} | {r['theta'].format(3)} | "
                     f"{r['rg']:.3f} | {loc} | {r['init'].format(2)} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- #
# Claims: evidence per configuration, evaluated against the registry (rgnb.rg.registry)
# --------------------------------------------------------------------------------------------- #
def _layer_effects(theta: np.ndarray, pred: np.ndarray, label: str = "layer") -> dict:
    """``{"layer l": Effect}`` of per-seed deviations ``theta[:, l] - pred[l]`` for every layer l >= 1 where
    ``pred`` is finite (sign-flip intervals over seeds)."""
    return {f"{label} {l}": effects.from_differences(theta[:, l] - pred[l]) for l in range(1, theta.shape[1])
            if np.isfinite(pred[l])}


def _prefixed(prefix: str, d: dict) -> dict:
    return {f"{prefix}: {k}": v for k, v in d.items()}


def tk_evidence(res: HierarchyResult) -> Evidence:
    """T_k on one configuration: per layer ``theta_l - R^l(theta_0)`` (trained), the untrained hierarchy's as
    positive control."""
    pred = rg_prediction(res.law, res.theta.shape[1] - 1)
    return _evidence(res, _layer_effects(res.theta, pred), _prefixed("untrained", _layer_effects(res.theta_init, pred)))


def t_evidence(res: HierarchyResult) -> Evidence:
    """T on one configuration: ``theta_L - theta*`` per seed, the untrained hierarchy's as positive control."""
    star = FIXED_POINT[LAW_BY_NAME[res.law].family]
    return _evidence(res, {"last layer": effects.from_differences(res.theta[:, -1] - star)},
                     {"untrained: last layer": effects.from_differences(res.theta_init[:, -1] - star)})


def local_evidence(res: HierarchyResult) -> Evidence | None:
    """Trained layers vs the derived local optimum (layers where it is derived); None where nothing is derived."""
    pred = local_optimum_prediction(res.law, res.objective, res.theta.shape[1] - 1)
    trained = _layer_effects(res.theta, pred)
    if not trained:
        return None
    return _evidence(res, trained, _prefixed("untrained", _layer_effects(res.theta_init, pred)))


def _evidence(res: HierarchyResult, contrasts: dict, control: dict) -> Evidence:
    ok, detail = premise(res)
    return Evidence(configuration_name(res.law, res.objective, res.architecture), contrasts, positive_control=control,
                    premise_met=ok, premise_detail=detail, n=int(res.theta.shape[0]), n_unit="seeds (independent data)")


def permutation_check(study: Study) -> list[dict]:
    """Does a permutation of each layer's units change the layer parameter? Per configuration: the largest
    ``|theta_perm - theta|`` over seeds and layers >= 1, and the permuted hierarchy's mean last-layer theta."""
    return [{"configuration": configuration_name(*key), "family": LAW_BY_NAME[key[0]].family,
             "max_abs_change": float(np.abs(r.theta_perm[:, 1:] - r.theta[:, 1:]).max()),
             "theta_L_permuted": float(r.theta_perm[:, -1].mean()), "theta_L": float(r.theta[:, -1].mean())}
            for key, r in study.results.items()]


def _split(evidence: dict, primary: tuple) -> tuple[Evidence, list[Evidence]]:
    """The primary configuration's evidence and the others (in the study's order)."""
    if primary not in evidence:
        raise ValueError(f"the registered primary configuration {primary} was not measured; got {sorted(evidence)}")
    return evidence[primary], [ev for key, ev in evidence.items() if key != primary]


def sanity_evidence(checks: dict) -> dict:
    """Evidence of the five sanity checks (exact numbers), keyed by claim id."""
    from rgnb.rg.ising import COARSE_FUNCTIONS, rsmi_information, rsmi_information_brute_force

    ev = {}
    for key, fams in (("ising", ("ising",)), ("gauss", ("gauss",)), ("iid", FAMILIES_IID)):
        z = max(checks[f].max_z() for f in fams)
        ev[f"A-map-{key}"] = Evidence("Monte Carlo check", {"value": effects.exact(z)}, n=1, n_unit="Monte Carlo runs")
    ev["A-critical-eigenvalue"] = Evidence("closed form", {"value": effects.exact(u_eigenvalue_error())}, n=1,
                                           n_unit="closed form")
    err = max(abs(rsmi_information(f, 0.7, 1, 2) - rsmi_information_brute_force(f, 0.7, 1, 2))
              for f in COARSE_FUNCTIONS)
    ev["B-rsmi-enumeration"] = Evidence("exact enumeration", {"value": effects.exact(err)}, n=len(COARSE_FUNCTIONS),
                                        n_unit="coarse variables")
    return ev


def build_claims(checks: dict, study: Study, profile: str, events: list | None = None) -> list:
    """Every registered claim of the chapter evaluated on its measurements: one ``rgnb.claims.Row`` per spec of
    :data:`rgnb.rg.registry.REGISTRY`, decided by the registered primary configuration
    (:data:`~rgnb.rg.registry.PRIMARY`), the others as sub-rows in the study's order.
    ``events``: the claims history (default: ``results/claims_history.json``)."""
    from rgnb.claims import evaluate

    sanity = sanity_evidence(checks)
    per_claim = {"P2-Tk": {k: tk_evidence(r) for k, r in study.results.items()},
                 "P2-T": {k: t_evidence(r) for k, r in study.results.items()},
                 "ours-local-optimum": {k: ev for k, r in study.results.items()
                                        if (ev := local_evidence(r)) is not None}}
    rows = []
    for spec in REGISTRY:
        if spec.id in sanity:
            floor = 1e-12 if spec.margin < 1e-3 else None
            rows.append(evaluate(spec, sanity[spec.id], profile=profile, floor=floor, events=events))
            continue
        first, others = _split(per_claim[spec.id], PRIMARY)
        rows.append(evaluate(spec, first, others=others, profile=profile, events=events))
    return rows


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
