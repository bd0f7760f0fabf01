"""The evidence of the RG chapter's registered claims (:mod:`rgnb.rg.registry`, verdicts v3, issue 23).

Per configuration, paired per seed (same data and probes for the trained object and its nulls):

- ``P2-feature``: ``theta_L* - R^L*(theta_0)`` of the trained feature layer; positive control the untrained one.
- ``P2-step``: the fitted layer map's ``lambda_critical - 1`` and ``1 - lambda_trivial``; placebo the
  untrained networks' map.
- ``ours-empty``: ``theta_L* - theta*`` of the untrained and the site-shuffled hierarchies; positive control
  the input layer.
- ``ours-block-sum``: ``lambda - lambda_block sum`` at both fixed points; positive control the untrained
  networks' map.
- ``ours-fc-ill-posed``: the exact spread of the fully connected optimum's feature parameter.

The premise of every trained-network row is a certified optimum (:func:`premise`).
"""

from __future__ import annotations

import numpy as np

from rgnb import effects
from rgnb.claims.spec import Evidence
from rgnb.rg.config import FIXED_POINT, LAW_BY_NAME
from rgnb.rg.estimators import layer_rank_correlation
from rgnb.rg.gaussian_chain import fc_dae_gauge_scan
from rgnb.rg.networks import HierarchyResult
from rgnb.rg.registry import (EMPTY_PRIMARY, GAP_BOUND, GRAD_BOUND, MAP_PRIMARY, PRIMARY, PROBE, REGISTRY,
                              configuration_name)
from rgnb.rg.theory import EXACT_EIGENVALUES, denoise_optimum_per_layer, rank_noise_floor, rg_prediction

#: Laws of ours-empty (away from criticality).
AWAY = ("gauss-away", "ising-away")
#: Laws of the fully connected row: (name, phi).
FC_LAWS = (("gauss-near", 0.95), ("gauss-away", 0.5))


def premise(gap: np.ndarray | None, grad: np.ndarray, noise_note: str = "") -> tuple[bool, str]:
    """The certified-optimum premise over networks: ``gap`` (n,) the largest loss gap to the certified optimum per
    network (None where no optimum is known: stationarity, ``grad`` (n,) below :data:`GRAD_BOUND`)."""
    if gap is not None:
        ok = np.asarray(gap) < GAP_BOUND
        return bool(ok.all()), (f"{int(ok.sum())}/{ok.size} networks within {GAP_BOUND:g} of the certified optimum "
                                f"(largest gap {float(np.max(gap)):.3g}){noise_note}")
    ok = np.asarray(grad) < GRAD_BOUND
    return bool(ok.all()), (f"{int(ok.sum())}/{ok.size} networks stationary (gradient norm < {GRAD_BOUND:g}; "
                            f"largest {float(np.max(grad)):.3g})")


def hierarchy_gap(res: HierarchyResult, noise: float) -> np.ndarray | None:
    """Per seed, the largest loss gap over layers to the certified optimum (Gaussian chain, denoise), else None."""
    if LAW_BY_NAME[res.law].family != "gauss" or res.objective != "denoise":
        return None
    return (res.loss_final - denoise_optimum_per_layer(res.law, res.loss_final.shape[1], noise)[None, :]).max(1)


def _hierarchy_premise(res: HierarchyResult, noise: float) -> tuple[bool, str]:
    return premise(hierarchy_gap(res, noise), res.grad_norm)


def feature_evidence(res: HierarchyResult, noise: float) -> Evidence:
    """P2-feature on one configuration."""
    pred = rg_prediction(res.law, res.theta.shape[1] - 1)[-1]
    ok, detail = _hierarchy_premise(res, noise)
    return Evidence(configuration_name(res.law, res.objective, res.architecture),
                    {"feature layer": effects.from_differences(res.theta[:, -1] - pred)},
                    positive_control={"untrained: feature layer": effects.from_differences(res.theta_init[:, -1] - pred)},
                    premise_met=ok, premise_detail=detail, n=int(res.theta.shape[0]), n_unit="seeds (independent data)")


def empty_evidence(res: HierarchyResult) -> Evidence:
    """ours-empty on one configuration (the nulls of a trained configuration; premise: the law is away)."""
    star = FIXED_POINT[LAW_BY_NAME[res.law].family]
    return Evidence(configuration_name(res.law, res.objective, res.architecture),
                    {"untrained": effects.from_differences(res.theta_init[:, -1] - star),
                     "site-shuffled": effects.from_differences(res.theta_shuffled[:, -1] - star)},
                    positive_control={"input layer": effects.from_differences(res.theta[:, 0] - star)},
                    premise_met=LAW_BY_NAME[res.law].regime == "away", n=int(res.theta.shape[0]),
                    n_unit="seeds (independent data)")


def map_statistics(maps: list) -> dict:
    """Per-seed arrays of the fitted maps' fixed points and eigenvalues."""
    return {k: np.array([getattr(m, k) for m in maps]) for k in
            ("fixed_trivial", "fixed_critical", "eig_trivial", "eig_critical")}


def map_premise(res) -> tuple[bool, str]:
    gap = None if not np.isfinite(res.optimum).all() else (res.loss - res.optimum).ravel()
    return premise(gap, res.grad_norm.ravel())


def _map_name(key: tuple) -> str:
    return f"{key[0]} chain, {key[1]}, {key[2]} weights (layer map)"


def step_evidence(key: tuple, res) -> Evidence:
    """P2-step on one layer-map configuration."""
    t, u = map_statistics(res.maps("theta")), map_statistics(res.maps("theta_init"))
    ok, detail = map_premise(res)
    eff = lambda s: {"critical: lambda - 1": effects.from_differences(s["eig_critical"] - 1),  # noqa: E731
                     "trivial: 1 - lambda": effects.from_differences(1 - s["eig_trivial"])}
    return Evidence(_map_name(key), eff(t), placebo=eff(u), premise_met=ok, premise_detail=detail,
                    n=int(res.theta.shape[1]), n_unit="seeds (each a grid of networks)")


def block_sum_evidence(key: tuple, res) -> Evidence:
    """ours-block-sum on one layer-map configuration: the eigenvalues minus the block sum's; the untrained map's
    as positive control."""
    t, u = map_statistics(res.maps("theta")), map_statistics(res.maps("theta_init"))
    ok, detail = map_premise(res)
    bs = EXACT_EIGENVALUES["block sum"]

    def eff(s, prefix=""):
        return {f"{prefix}{fp}: lambda - {bs[fp]:g}": effects.from_differences(s[f"eig_{fp}"] - bs[fp])
                for fp in ("critical", "trivial")}
    return Evidence(_map_name(key), eff(t), positive_control=eff(u, "untrained: "), premise_met=ok,
                    premise_detail=detail, n=int(res.theta.shape[1]), n_unit="seeds (each a grid of networks)")


def fc_evidence(phi: float, name: str) -> Evidence:
    """ours-fc-ill-posed: the spread of the feature layer's lag-1 parameter over the exact optimal set."""
    scan = fc_dae_gauge_scan(phi, 32, 8, 0.5, np.linspace(-0.9, 0.9, 19))
    spread = float(scan["u"].max() - scan["u"].min())
    return Evidence(f"{name} (phi = {phi:g}), fully connected linear DAE, N = 32, M = 8",
                    {"spread over the optimal set": effects.exact(spread)}, n=19, n_unit="optimal gauges",
                    note=f"largest relative excess loss over the gauges {float(np.abs(scan['excess']).max()):.1e}")


def noise_floor_check(rng: np.random.Generator, n_layers: int = 2000) -> tuple[float, float, float]:
    """Simulated mean |Spearman| of 4 independent units x :data:`PROBE` samples over ``n_layers`` layers against
    the closed form: ``(simulated mean, its SE, closed-form mean)``."""
    sim = layer_rank_correlation(rng.standard_normal((n_layers, PROBE, 4)))
    return float(sim.mean()), float(sim.std(ddof=1) / np.sqrt(n_layers)), rank_noise_floor(PROBE, 4)[0]


def sanity_evidence(checks: dict, floor: tuple[float, float, float]) -> dict:
    """Evidence of the sanity checks (exact numbers), keyed by claim id."""
    from rgnb.rg.chapter import u_eigenvalue_error
    from rgnb.rg.config import FAMILIES_IID
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
    sim, se, closed = floor
    ev["B-noise-floor"] = Evidence("simulation", {"value": effects.exact(abs(sim - closed) / se)}, n=2000,
                                   n_unit="simulated layers")
    return ev


def _split(evidence: dict, primary: tuple) -> tuple[Evidence, list[Evidence]]:
    """The primary configuration's evidence and the others (in the study's order)."""
    if primary not in evidence:
        raise ValueError(f"the registered primary configuration {primary} was not measured; got {sorted(evidence)}")
    return evidence[primary], [ev for key, ev in evidence.items() if key != primary]


def build_claims(checks: dict, study, maps: dict, floor: tuple, profile: str, noise: float = 0.5,
                 events: list | None = None) -> list:
    """Every registered claim evaluated on its measurements: one ``rgnb.claims.Row`` per spec of
    :data:`~rgnb.rg.registry.REGISTRY`, decided by its registered primary configuration, the others as sub-rows.
    ``maps``: :func:`rgnb.rg.chapter.run_map_study`; ``floor``: :func:`noise_floor_check`."""
    from rgnb.claims import evaluate

    sanity = sanity_evidence(checks, floor)
    per_claim = {
        "P2-feature": ({k: feature_evidence(r, noise) for k, r in study.results.items()}, PRIMARY),
        "P2-step": ({k: step_evidence(k, r) for k, r in maps.items()}, MAP_PRIMARY),
        "ours-empty": ({k: empty_evidence(r) for k, r in study.results.items() if k[0] in AWAY}, EMPTY_PRIMARY),
        "ours-block-sum": ({k: block_sum_evidence(k, r) for k, r in maps.items()}, MAP_PRIMARY),
        "ours-fc-ill-posed": ({law: fc_evidence(phi, law) for law, phi in FC_LAWS}, FC_LAWS[0][0]),
    }
    rows = []
    for spec in REGISTRY:
        if spec.id in sanity:
            floor_ = 1e-12 if spec.margin < 1e-3 else None
            rows.append(evaluate(spec, sanity[spec.id], profile=profile, floor=floor_, events=events))
            continue
        evidence, primary = per_claim[spec.id]
        first, others = _split(evidence, primary)
        rows.append(evaluate(spec, first, others=others, profile=profile, events=events))
    return rows
