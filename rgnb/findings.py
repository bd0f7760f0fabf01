"""The three findings of the MLP-residual paper: measurements, pre-stated tests, verdicts.

Consumes a trained sweep (``rgnb.train.SweepResult``): for every model and stage ("init",
"trained") it measures the residual stream h^0..h^L on the chain's fixed probe set with
``rgnb.metrics`` (effective rank and participation ratio per position / pooled / stacked, and the
kernel-drift profile), then computes the three chapters' claims.

Every test and threshold below is a module constant fixed BEFORE any trained network was
measured (``PRE_STATED``). Tests added after looking at the smoke results are collected in
``POST_HOC`` and their claims say "(post hoc)" in the table; the chapters state why they were added.
Statistics are means over seeds with a percentile-bootstrap 95% CI over seeds
(``rgnb.metrics.seed_ci``, seeded by the chapter's seed); the paper's two chains are the sweep's xi
nearest 1 and 7, at the deepest depth of the sweep.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any

import numpy as np
import torch

from rgnb import cache as _cache
from rgnb import chains, metrics
from rgnb.claims import Claim, Threshold, check
from rgnb.stats import Interval, bootstrap_ci

STAGES = ("init", "trained")
QUANTITIES = ("erank_position", "erank_pooled", "erank_stacked", "pr_position", "pr_pooled", "pr_stacked",
              "drift_cka", "drift_frobenius")

# --------------------------------------------------------------------------------------------- #
# Pre-stated tests (fixed before any run)
# --------------------------------------------------------------------------------------------- #
#: (i) monotone decrease of erank(l), per position, trained, deepest depth, xi ~ 1.
MONOTONE_RHO = Threshold("Spearman rho(l, erank(l)), mean over seeds", -0.8, "below")
NONINCREASING = Threshold("share of steps with erank(l+1) <= erank(l), mean over seeds", 0.7, "above")
#: (i, ours) the collapse is learned: trained R minus the same network's R at initialisation.
LEARNED = Threshold("R(trained) - R(init), R = erank(L) / erank(0)", -0.05, "below")
#: (ii) collapse present at xi ~ 1, absent at xi ~ 7, and selective.
COLLAPSE_R = 0.8
COLLAPSE_PRESENT = Threshold("collapse ratio R = erank(L) / erank(0), per position", COLLAPSE_R, "below")
COLLAPSE_ABSENT = Threshold("collapse ratio R = erank(L) / erank(0), per position", COLLAPSE_R, "above")
SELECTIVITY_GAP = Threshold("R(xi ~ 7) - R(xi ~ 1), per position, paired by seed", 0.1, "above")
#: (ii, ours) mean pooling moves R by more than this (max over the two chains of |R_pooled - R_position|).
POOLING_ARTIFACT = Threshold("max over the two chains of |R(pooled) - R(per position)|", 0.1, "above")
#: (ii, ours) phase diagram: R rises with xi over the grid (Spearman over xi, deepest depth).
PHASE_RHO = Threshold("Spearman rho(xi, R) over the xi grid, mean over seeds", 0.8, "above")
#: (ii, ours) spectral tie: a mode k is relevant at the task's scale s when |lambda_k|^s > RELEVANCE_CUT,
#: s = mean distance from a masked token to the nearest visible one; for a single-gap family the modes
#: switch on at xi_rel = s / ln(1 / cut). The measured switch point must lie within this factor of it.
RELEVANCE_CUT = math.exp(-1.0)
SWITCH_FACTOR = 2.0
SWITCH_TEST = Threshold("|ln(xi_switch / xi_rel)|", math.log(SWITCH_FACTOR), "below")
#: (iii) kernel drift concentrated in one or two transitions, a plateau elsewhere.
EFFECTIVE_TRANSITIONS = Threshold("effective number of transitions (participation ratio of 1 - CKA profile)",
                                  2.5, "below")
TOP2_SHARE = Threshold("share of the total drift in the top two transitions", 0.6, "above")
PLATEAU = Threshold("largest drift 1 - CKA outside the top two transitions", 0.05, "below")
COINCIDENCE = Threshold("Pearson r over transitions between drift and rank drop erank(l) - erank(l+1)", 0.5, "above")
#: (iii, ours) training concentrates the drift: effective number trained minus init.
CONCENTRATED_BY_TRAINING = Threshold("effective number of transitions, trained - init", 0.0, "below")

PRE_STATED = (MONOTONE_RHO, NONINCREASING, LEARNED, COLLAPSE_PRESENT, COLLAPSE_ABSENT, SELECTIVITY_GAP,
              POOLING_ARTIFACT, PHASE_RHO, SWITCH_TEST, EFFECTIVE_TRANSITIONS, TOP2_SHARE, PLATEAU, COINCIDENCE,
              CONCENTRATED_BY_TRAINING)

# --------------------------------------------------------------------------------------------- #
# Added after seeing the smoke results (stated as such in the chapters)
# --------------------------------------------------------------------------------------------- #
#: h^0 (embeddings) has per-position rank bounded by the V + 1 input symbols, so erank(l) measured
#: from l = 0 rises through the first block whatever training does. Variant: the test from l = 1 on.
MONOTONE_RHO_FROM_1 = Threshold("Spearman rho(l, erank(l)) for l >= 1, mean over seeds", -0.8, "below")
#: Learned compression C = erank_trained(L) / erank_init(L) of the same network (the untrained
#: network as the reference instead of h^0); C < 1: training removed dimensions.
COMPRESSION_LEVEL = 1.0
COMPRESSION_PRESENT = Threshold("learned compression C = erank_trained(L) / erank_init(L)", COMPRESSION_LEVEL,
                                "below")
COMPRESSION_GAP = Threshold("C(xi ~ 7) - C(xi ~ 1), paired by seed", 0.0, "above")
COINCIDENCE_ABS = Threshold("Pearson r over transitions between drift and |erank(l+1) - erank(l)|", 0.5, "above")
POST_HOC = (MONOTONE_RHO_FROM_1, COMPRESSION_PRESENT, COMPRESSION_GAP, COINCIDENCE_ABS)


# --------------------------------------------------------------------------------------------- #
# Measurements of a sweep
# --------------------------------------------------------------------------------------------- #
@dataclasses.dataclass
class SweepMetrics:
    """Per-member profiles: ``values[(stage, quantity)][i]`` is (L+1,) for erank/pr, (L,) for drift."""

    config: Any
    members: list[dict[str, Any]]
    values: dict[tuple[str, str], list[np.ndarray]]
    task_scale: float
    seed: int = 0   # seed of every bootstrap over seeds (the chapter's run.seed)

    def ci(self, values) -> Interval:
        """Mean over seeds with a bootstrap 95% CI, values (n_seeds,)."""
        return metrics.seed_ci(values, seed=self.seed)

    def band(self, values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean and bootstrap 95% band over seeds, values (n_seeds, K) -> three (K,) arrays."""
        return metrics.seed_band(values, seed=self.seed)

    @property
    def xis(self) -> tuple[float, ...]:
        return tuple(float(x) for x in self.config.xis)

    @property
    def depths(self) -> tuple[int, ...]:
        return tuple(int(L) for L in self.config.depths)

    @property
    def deepest(self) -> int:
        return max(self.depths)

    def paper_chains(self) -> tuple[float, float]:
        """The sweep's xi nearest 1 and nearest 7."""
        xis = np.asarray(self.xis)
        return float(xis[np.argmin(abs(xis - 1.0))]), float(xis[np.argmin(abs(xis - 7.0))])

    def index(self, xi: float, depth: int) -> list[int]:
        """Member indices of (xi, depth), ordered by seed."""
        idx = [i for i, m in enumerate(self.members) if math.isclose(m["xi"], xi) and m["depth"] == depth]
        if not idx:
            raise ValueError(f"(xi, depth) must be in the sweep ({self.xis} x {self.depths}), got ({xi}, {depth})")
        return sorted(idx, key=lambda i: self.members[i]["seed"])

    def profiles(self, quantity: str, stage: str, xi: float, depth: int) -> np.ndarray:
        """Stacked profiles over seeds, (n_seeds, L+1) or (n_seeds, L) for drift."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
        return np.stack([self.values[(stage, quantity)][i] for i in self.index(xi, depth)])


def task_scale(result) -> float:
    """Mean distance (positions) from a masked probe token to its nearest visible one, over all chains."""
    d = [chains.distance_to_visible(torch.as_tensor(result.probe_mask(xi)))[torch.as_tensor(result.probe_mask(xi))]
         for xi in result.config.xis]
    return float(torch.cat(d).double().mean())


def measure_stream(h: np.ndarray) -> dict[str, np.ndarray]:
    """All quantities of one stream (L+1, N, T, d)."""
    out = {}
    for mode in metrics.STREAM_MODES:
        s = metrics.singular_values(metrics._stream_matrices(metrics._stream(h), mode))
        e, p = metrics.erank_from_singular(s), metrics.pr_from_singular(s)
        out[f"erank_{mode}"] = e.mean(-1) if mode == "position" else e
        out[f"pr_{mode}"] = p.mean(-1) if mode == "position" else p
    drift = metrics.kernel_drift(h)
    out["drift_cka"], out["drift_frobenius"] = drift["cka"], drift["frobenius"]
    return out


#: Bumped by hand when the meaning of stored measurements changes without a change to metrics.py.
MEASURE_VERSION = "1"


def measure_key(result) -> str:
    """Cache key of a sweep's measurements: the sweep's key, MEASURE_VERSION and metrics.py's source."""
    from pathlib import Path

    source = hashlib.sha256(Path(metrics.__file__).read_bytes()).hexdigest()[:16]
    return _cache.config_key({"sweep": result.key}, kind="findings-measurements", version=MEASURE_VERSION,
                             metrics_source=source)


def measure_sweep(result, progress: bool = False, cache: bool = True, cache_dir=None, seed: int = 0) -> SweepMetrics:
    """Measure every member's stream at both stages; see :class:`SweepMetrics`.

    With ``cache`` (and a ``result.key``), the measurements are stored in ``rgnb.cache`` next to the
    sweep, so the three findings chapters measure a sweep once.
    """
    from tqdm import tqdm

    key = measure_key(result) if cache and getattr(result, "key", None) else None
    entry = _cache.load(key, cache_dir) if key else None
    n = len(result.members)
    if entry is not None:
        values = {(s, q): [entry.array(f"{s}/{q}/{i}") for i in range(n)] for s in STAGES for q in QUANTITIES}
        return SweepMetrics(config=result.config, members=list(result.members), values=values,
                            task_scale=float(entry.meta["task_scale"]), seed=seed)
    values = {(s, q): [] for s in STAGES for q in QUANTITIES}
    for i in tqdm(range(n), desc="measure", disable=not progress):
        for stage in STAGES:
            m = measure_stream(result.streams(i, stage))
            for q in QUANTITIES:
                values[(stage, q)].append(m[q])
    scale = task_scale(result)
    if key:
        arrays = {f"{s}/{q}/{i}": values[(s, q)][i] for s in STAGES for q in QUANTITIES for i in range(n)}
        _cache.store(key, arrays, {"sweep_key": result.key, "task_scale": scale, "version": MEASURE_VERSION},
                     cache_dir)
    return SweepMetrics(config=result.config, members=list(result.members), values=values, task_scale=scale,
                        seed=seed)


# --------------------------------------------------------------------------------------------- #
# Statistics
# --------------------------------------------------------------------------------------------- #
def ratio_by_seed(sm: SweepMetrics, xi: float, depth: int, stage: str = "trained", mode: str = "position",
                  reduce: str = "last") -> np.ndarray:
    """Collapse ratio R = erank(L) / erank(0) (or min_l) per seed, (n_seeds,)."""
    return metrics.collapse_ratio(sm.profiles(f"erank_{mode}", stage, xi, depth), reduce=reduce)


def compression_by_seed(sm: SweepMetrics, xi: float, depth: int, mode: str = "position") -> np.ndarray:
    """Learned compression C = erank_trained(L) / erank_init(L) per seed, (n_seeds,)."""
    return (sm.profiles(f"erank_{mode}", "trained", xi, depth)[:, -1]
            / sm.profiles(f"erank_{mode}", "init", xi, depth)[:, -1])


def monotonicity(sm: SweepMetrics, xi: float, depth: int, stage: str = "trained", mode: str = "position",
                 start: int = 0) -> dict[str, Interval]:
    """Spearman rho(l, erank) and the non-increasing share over l >= start, each an Interval over seeds."""
    prof = sm.profiles(f"erank_{mode}", stage, xi, depth)[:, start:]
    return {"rho": sm.ci(metrics.depth_spearman(prof)),
            "share": sm.ci(metrics.nonincreasing_share(prof))}


def relevant_modes(kind: str, vocab_size: int, xi: float, scale: float, cut: float = RELEVANCE_CUT) -> int:
    """Number of non-stationary modes with ``|lambda_k|^scale > cut`` (relevant at the task's scale)."""
    lam = np.sort(np.abs(chains.spectrum(kind, vocab_size, xi)))[::-1][1:]
    return int((lam**scale > cut).sum())


def soft_relevant_modes(kind: str, vocab_size: int, xi: float, scale: float) -> float:
    """Smooth count ``sum_{k >= 1} |lambda_k|^(2 scale)``: signal variance surviving the distance ``scale``."""
    lam = np.sort(np.abs(chains.spectrum(kind, vocab_size, xi)))[::-1][1:]
    return float((lam ** (2.0 * scale)).sum())


def spectral_switch(kind: str, vocab_size: int, scale: float, cut: float = RELEVANCE_CUT,
                    xi_range: tuple[float, float] = (0.3, 50.0)) -> float:
    """Smallest xi at which the slowest mode becomes relevant: ``|lambda_2(xi)|^scale = cut`` (bisection)."""
    lo, hi = math.log(xi_range[0]), math.log(xi_range[1])
    f = lambda lx: relevant_modes(kind, vocab_size, math.exp(lx), scale, cut) > 0  # noqa: E731
    if f(lo):
        return xi_range[0]
    if not f(hi):
        return math.inf
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if f(mid) else (mid, hi)
    return math.exp(hi)


def crossing(xis: np.ndarray, curve: np.ndarray, level: float) -> float:
    """First xi where ``curve`` (over ascending ``xis``) rises through ``level``, log-linear interpolation.

    ``curve`` (..., n_xi) -> (...) (a float for one curve); ``-inf`` if the curve starts above the
    level, ``inf`` if it never reaches it.
    """
    xis = np.asarray(xis, dtype=np.float64)
    c = np.asarray(curve, dtype=np.float64)
    if xis.ndim != 1 or xis.size < 2 or np.any(np.diff(xis) <= 0):
        raise ValueError(f"xis must be ascending with at least 2 values, got {xis}")
    if c.shape[-1] != xis.size:
        raise ValueError(f"curve must have shape (..., {xis.size}), got {c.shape}")
    flat = c.reshape(-1, xis.size)
    out = np.empty(flat.shape[0])
    lx = np.log(xis)
    for r, row in enumerate(flat):
        above = row >= level
        if above[0]:
            out[r] = -math.inf
            continue
        k = int(np.argmax(above)) if above.any() else -1
        if k < 0:
            out[r] = math.inf
            continue
        f = (level - row[k - 1]) / (row[k] - row[k - 1])
        out[r] = math.exp(lx[k - 1] + f * (lx[k] - lx[k - 1]))
    out = out.reshape(c.shape[:-1])
    return float(out) if out.ndim == 0 else out


def switch_point(xis, curves_by_seed: np.ndarray, level: float, seed: int = 0) -> Interval:
    """Crossing of the seed-mean curve through ``level``, bootstrap over seeds (curves (n_seeds, n_xi))."""
    curves = np.asarray(curves_by_seed, dtype=np.float64)
    if curves.ndim != 2 or curves.shape[0] < 2:
        raise ValueError(f"curves_by_seed must have shape (n_seeds, n_xi) with n_seeds >= 2, got {curves.shape}")
    big = 1e12  # censored crossings (+-inf) as large finite values, so quantiles stay defined

    def stat(idx: np.ndarray) -> np.ndarray:
        return np.clip(np.atleast_1d(crossing(xis, curves[idx.astype(int)].mean(1), level)), -big, big)

    ci = bootstrap_ci(np.arange(curves.shape[0], dtype=np.float64), stat, seed=seed)
    back = lambda v: math.copysign(math.inf, v) if abs(v) >= big else v  # noqa: E731
    return Interval(back(ci.estimate), back(ci.low), back(ci.high), ci.level)


def log_deviation(interval: Interval, target: float) -> Interval:
    """``|ln(x / target)|`` of an interval of positive x: the estimate's, and the range over [low, high]."""
    def dev(x: float) -> float:
        return abs(math.log(x / target)) if math.isfinite(x) and x > 0 else math.inf
    lo = 0.0 if interval.low <= target <= interval.high else min(dev(interval.low), dev(interval.high))
    return Interval(dev(interval.estimate), lo, max(dev(interval.low), dev(interval.high)), interval.level)


def _paired(sm: SweepMetrics, fn, values_a: np.ndarray, values_b: np.ndarray) -> Interval:
    return sm.ci(fn(np.asarray(values_a), np.asarray(values_b)))


def pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r along the last axis, (..., n) x (..., n) -> (...); 0 where either row is constant."""
    a = np.asarray(a, dtype=np.float64) - np.mean(a, -1, keepdims=True)
    b = np.asarray(b, dtype=np.float64) - np.mean(b, -1, keepdims=True)
    den = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    return np.where(den > 0, (a * b).sum(-1) / np.where(den > 0, den, 1.0), 0.0)


# --------------------------------------------------------------------------------------------- #
# Chapter claims
# --------------------------------------------------------------------------------------------- #
def rank_collapse_claims(sm: SweepMetrics) -> list[Claim]:
    """Finding (i): monotone decrease of erank(l) after training (xi ~ 1, deepest depth)."""
    xi1, _ = sm.paper_chains()
    L = sm.deepest
    pos = monotonicity(sm, xi1, L, "trained", "position")
    pooled = monotonicity(sm, xi1, L, "trained", "pooled")
    from1 = monotonicity(sm, xi1, L, "trained", "position", start=1)
    learned = _paired(sm, lambda a, b: a - b, ratio_by_seed(sm, xi1, L, "trained"), ratio_by_seed(sm, xi1, L, "init"))
    where = f"xi = {xi1:g}, depth {L}"
    return [
        check(f"Effective rank of the residual stream decreases monotonically with depth after training "
              f"(per position; {where})", MONOTONE_RHO, pos["rho"], "erank-profile figure"),
        check(f"... same claim, share of non-increasing steps (per position; {where})", NONINCREASING,
              pos["share"], "erank-profile figure"),
        check(f"... same claim, mean-pooled stream ({where})", MONOTONE_RHO, pooled["rho"], "erank-profile figure"),
        check(f"(ours) The drop is learned: R below the same network's R at initialisation ({where})", LEARNED,
              learned, "erank-profile figure"),
        check(f"(post hoc) Monotone decrease from block 1 on, excluding the embedding layer ({where})",
              MONOTONE_RHO_FROM_1, from1["rho"], "erank-profile figure"),
    ]


def selectivity_claims(sm: SweepMetrics, kind: str, vocab_size: int) -> list[Claim]:
    """Finding (ii): collapse at xi ~ 1, not at xi ~ 7; pooling artifact; the phase diagram."""
    xi1, xi7 = sm.paper_chains()
    L = sm.deepest
    r1, r7 = ratio_by_seed(sm, xi1, L), ratio_by_seed(sm, xi7, L)
    p1, p7 = ratio_by_seed(sm, xi1, L, mode="pooled"), ratio_by_seed(sm, xi7, L, mode="pooled")
    artifact = sm.ci(np.maximum(abs(p1 - r1), abs(p7 - r7)))
    xis = np.asarray(sm.xis)
    R_grid = np.stack([ratio_by_seed(sm, xi, L) for xi in xis], 1)     # (n_seeds, n_xi)
    C_grid = np.stack([compression_by_seed(sm, xi, L) for xi in xis], 1)
    phase = sm.ci(metrics.spearman(np.broadcast_to(xis, R_grid.shape), R_grid))
    xi_rel = spectral_switch(kind, vocab_size, sm.task_scale)
    sw = switch_point(xis, C_grid, COMPRESSION_LEVEL)
    dev = log_deviation(sw, xi_rel)
    c1, c7 = compression_by_seed(sm, xi1, L), compression_by_seed(sm, xi7, L)
    return [
        check(f"Rank collapse is present for xi ~ 1 (xi = {xi1:g}, depth {L})", COLLAPSE_PRESENT, sm.ci(r1),
              "collapse-ratio figure"),
        check(f"Rank collapse is absent for xi ~ 7 (xi = {xi7:g}, depth {L})", COLLAPSE_ABSENT, sm.ci(r7),
              "collapse-ratio figure"),
        check("The collapse is selective: R larger at xi ~ 7 than at xi ~ 1", SELECTIVITY_GAP,
              _paired(sm, lambda a, b: a - b, r7, r1), "collapse-ratio figure"),
        check("(ours) Mean pooling moves the collapse ratio (the artifact the paper controls for)", POOLING_ARTIFACT,
              artifact, "pooling figure"),
        check("(ours) Phase diagram: R rises with xi over the grid", PHASE_RHO, phase, "phase-diagram figure"),
        check(f"(post hoc) Learned compression C < 1 at xi ~ 1 (xi = {xi1:g})", COMPRESSION_PRESENT,
              sm.ci(c1), "phase-diagram figure"),
        check("(post hoc) Compression is selective: C larger at xi ~ 7 than at xi ~ 1", COMPRESSION_GAP,
              _paired(sm, lambda a, b: a - b, c7, c1), "phase-diagram figure"),
        check(f"(ours) C crosses 1 where the chain's modes become relevant at the task scale "
              f"(xi_rel = {xi_rel:.2g}; measured xi_switch = {sw.format()})", SWITCH_TEST, dev,
              "phase-diagram figure"),
    ]


def drift_statistics(sm: SweepMetrics, xi: float, depth: int, stage: str = "trained") -> dict[str, np.ndarray]:
    """Per-seed concentration statistics of the 1 - CKA drift profile, and its rank coincidence."""
    D = sm.profiles("drift_cka", stage, xi, depth)                 # (n_seeds, L)
    E = sm.profiles("erank_position", stage, xi, depth)            # (n_seeds, L+1)
    conc = metrics.drift_concentration(D)
    drop = E[:, :-1] - E[:, 1:]
    return {"top1": conc.top1, "top2": conc.top2, "effective": conc.effective, "argmax": conc.argmax,
            "plateau": metrics.plateau_level(D, 2), "coincidence": pearson_rows(D, drop),
            "coincidence_abs": pearson_rows(D, abs(drop)), "total": D.sum(-1)}


def kernel_drift_claims(sm: SweepMetrics) -> list[Claim]:
    """Finding (iii): drift concentrated in one or two transitions, plateau elsewhere (xi ~ 1, deepest)."""
    xi1, xi7 = sm.paper_chains()
    L = sm.deepest
    tr, init = drift_statistics(sm, xi1, L, "trained"), drift_statistics(sm, xi1, L, "init")
    tr7 = drift_statistics(sm, xi7, L, "trained")
    where = f"xi = {xi1:g}, depth {L}"
    ci = sm.ci
    return [
        check(f"Inter-layer kernel drift is concentrated in one or two transitions ({where})",
              EFFECTIVE_TRANSITIONS, ci(tr["effective"]), "drift-profile figure"),
        check(f"... same claim, top-two share ({where})", TOP2_SHARE, ci(tr["top2"]), "drift-profile figure"),
        check(f"The other layers sit on a plateau near a fixed point ({where})", PLATEAU, ci(tr["plateau"]),
              "drift-profile figure"),
        check(f"... plateau at xi = {xi7:g} (depth {L})", PLATEAU, ci(tr7["plateau"]), "drift-profile figure"),
        check(f"(ours) The transitions coincide with where the effective rank drops ({where})", COINCIDENCE,
              ci(tr["coincidence"]), "drift-vs-rank figure"),
        check(f"(post hoc) The transitions coincide with where the effective rank changes ({where})",
              COINCIDENCE_ABS, ci(tr["coincidence_abs"]), "drift-vs-rank figure"),
        check(f"(ours) Training concentrates the drift (effective number, trained - init; {where})",
              CONCENTRATED_BY_TRAINING, ci(tr["effective"] - init["effective"]), "drift-profile figure"),
    ]


# --------------------------------------------------------------------------------------------- #
# Tables for the chapters
# --------------------------------------------------------------------------------------------- #
def thresholds_markdown(rows: tuple[tuple[str, Threshold], ...]) -> str:
    """The pre-stated (or post-hoc) tests of a chapter as a Markdown table: (what, Threshold) rows."""
    lines = ["| what | passes when |", "|---|---|"]
    lines += [f"| {what} | {t.describe()} |" for what, t in rows]
    return "\n".join(lines)


def ratio_table(sm: SweepMetrics, depth: int) -> str:
    """Markdown: R per position / pooled / stacked (and min over layers), trained and init, per xi."""
    head = ("| xi | stage | R per position | R pooled | R stacked | min_l erank / erank(0), per position | C |\n"
            "|---|---|---|---|---|---|---|")
    lines = [head]
    for xi in sm.xis:
        for stage in STAGES:
            cells = [sm.ci(ratio_by_seed(sm, xi, depth, stage, mode)).format()
                     for mode in metrics.STREAM_MODES]
            cells.append(sm.ci(ratio_by_seed(sm, xi, depth, stage, "position", "min")).format())
            cells.append(sm.ci(compression_by_seed(sm, xi, depth)).format() if stage == "trained" else "")
            lines.append(f"| {xi:g} | {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def concentration_table(sm: SweepMetrics, depth: int) -> str:
    """Markdown: drift concentration per xi and stage (mean over seeds with bootstrap CI)."""
    lines = ["| xi | stage | total drift | top-1 share | top-2 share | effective transitions | plateau | "
             "largest transition (l -> l+1, per seed) |", "|---|---|---|---|---|---|---|---|"]
    for xi in sm.xis:
        for stage in STAGES:
            s = drift_statistics(sm, xi, depth, stage)
            cells = [sm.ci(s[k]).format() for k in ("total", "top1", "top2", "effective", "plateau")]
            cells.append(", ".join(f"{a}->{a + 1}" for a in s["argmax"]))
            lines.append(f"| {xi:g} | {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
