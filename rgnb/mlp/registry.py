"""The registry of the MLP study's claims (P1, ours, sanity checks), verdicts v3.

One row per paper claim, decided by its registered primary configuration (the paper's first chain,
Potts, with span masking, at the stored depth); the other configurations (ring chain, isolated
masking, the raw stream, PCs for 90 %) are sub-rows. Every finding is a set of paired contrasts
against the same networks at initialisation and the networks trained on a shuffled chain, measured
on the same probe sequences (``rgnb.mlp.findings`` builds the evidence). Removed in v3: "P1-ii-
selective" (the difference of the presence and absence rows) and "P1-iii-concentrated-with-
embedding" (the embedding transition 0 -> 1 dominates by construction).

The margins were fixed with the v3 re-declaration, after the v2 ledger had been seen (the history's
``rule`` event); each has a reason that does not depend on the results.
"""

from __future__ import annotations

import dataclasses
import math

from rgnb.claims import ClaimSpec
from rgnb.mlp.gate import GATE_EXCESS_NATS, GATE_SHARE
from rgnb.mlp.sweeps import NO_LAYERNORM_STEPS as _NO_LAYERNORM_STEPS

_PREMISE = ("every network compared (the family's networks and the shuffled-chain networks) passes the "
            "convergence gate")
_NULLS = ("initialisation", "shuffled chain")
_PRIMARY = "potts, {xi}, span masking, the stored depth (the paper's chain, the stream LN(h^l) the next block reads)"
COLLAPSE_MARGIN = 0.05
_COLLAPSE_REASON = ("5 % of the layer-1 dimension: the smallest loss of dimensions the word 'collapse' can mean "
                    "(the v2 margin, unchanged)")


def _p1(id_: str, chapter: str, claim: str, statistic: str, kind: str, direction: str, margin: float, reason: str,
        primary: str, aggregation: str, figure: str, scale: str = "difference", positive_control: str = "",
        source: str = "P1", contrasts: tuple[str, ...] = _NULLS, replaces: str = "") -> ClaimSpec:
    return ClaimSpec(id=id_, chapter=chapter, source=source, claim=claim, statistic=statistic, kind=kind,
                     direction=direction, margin=margin, margin_reason=reason, premise=_PREMISE, primary=primary,
                     interval="sign-flip", contrasts=contrasts, scale=scale, positive_control=positive_control,
                     aggregation=aggregation, figure=figure, replaces=replaces)


FINDINGS = (
    _p1("P1-i-monotone", "rank_collapse",
        "The effective rank of the residual stream decreases monotonically with depth after training",
        "per seed, Spearman rho(l, erank of LN(h^l)) over l >= 1, masked rows", "presence", "below", 0.3,
        "0.3 in Spearman rho, a 'medium' correlation (Cohen 1988): the paper states a monotone fall, not its size",
        _PRIMARY.format(xi="xi ~ 1"),
        "mean over seeds; sub-rows: ring chain, the raw stream h^l, PCs for 90 % of the variance, isolated masking",
        "fig-rank-profile"),
    _p1("P1-ii-present", "selectivity",
        "Collapse is present on the short-range chain: deeper layers keep fewer dimensions",
        "per seed, c = erank(L) / erank(1) of LN(h), masked rows", "presence", "below", COLLAPSE_MARGIN,
        _COLLAPSE_REASON, _PRIMARY.format(xi="xi ~ 1"), "mean over seeds; sub-rows: ring chain, isolated masking",
        "fig-selectivity"),
    _p1("P1-ii-absent", "selectivity",
        "Collapse is absent on the long-range chain (xi ~ 7): no more loss of dimensions than the nulls",
        "per seed, c = erank(L) / erank(1) of LN(h), masked rows", "absence", "below", COLLAPSE_MARGIN,
        _COLLAPSE_REASON, _PRIMARY.format(xi="xi ~ 7"), "mean over seeds; sub-rows: ring chain, isolated masking",
        "fig-selectivity",
        positive_control="the same networks' contrast with their initialisation at xi ~ 1, where the paper says "
                         "collapse is present"),
    _p1("P1-iii-concentrated", "kernel_drift",
        "Inter-layer kernel drift is concentrated in one or two transitions",
        "per seed, the top-two share of 1 - CKA over the transitions l -> l+1, l >= 1", "presence", "above", 0.15,
        "0.15 of the total drift, about one transition's share of a uniform profile at depth 8 (1/7)",
        _PRIMARY.format(xi="xi ~ 1"), "mean over seeds; sub-rows: ring chain, isolated masking",
        "fig-drift-profile"),
    _p1("P1-iii-plateau", "kernel_drift",
        "The other layers sit near a fixed point (a plateau of small drift)",
        "per seed, the plateau level: the largest drift outside the top two transitions (l >= 1)", "presence",
        "below", math.log(2.0), "a halving of the drift (the v2 ratio 0.5), on the log scale where a ratio stays "
        "positive", _PRIMARY.format(xi="xi ~ 1"), "mean over seeds of log ratios; sub-rows: ring chain, isolated "
        "masking", "fig-drift-profile", scale="log-ratio"),
)

RELEVANCE_GAIN = _p1(
    "ours-spectral-relevance-gain", "selectivity",
    "What training adds to the task-relevant dimension at the last layer increases with the number of chain modes "
    "relevant at the task's scale, at fixed correlation length",
    "per seed, the coefficient of the number of relevant modes in a least-squares fit of (trained - initialised "
    "task-relevant dimension) on [1, relevant modes, log xi] over the chains of both families", "presence", "above",
    0.0, "0: the claim is the sign of a slope", "potts and ring chains, every xi of the grid, the stored depth",
    "mean over seeds", "fig-spectral-relevance", source="ours", replaces="ours-spectral-relevance")

# Protocol v3 (issue 28): registered before any v3 measurement, evaluated on the P1 scan (rgnb.mlp.sweeps.SCAN).
# The tests were re-designed after the v2 results had been seen (the review behind issue 28), so every row
# that replaces a v2 row is post hoc by the history's rule; the new rows test claims on networks not yet
# trained when they were registered (the scan shapes) or readings the v2 rows did not test.
#: Every v3 measurement: each network seed its own probe set (rgnb.mlp.statistics.probe_seed), the nulls
#: paired with it measured on the same sequences, so the interval over seeds includes probe sampling.
V3_PROBES = "each seed on its own probe set, shared by the nulls paired with it"
#: The main shape and the scan shapes of protocol v3 (sub-rows: "holds in k of m").
_V3_MAIN = "potts, {xi}, span masking, depth 8, V = 8, width 32, T = 16 (the stream LN(h^l) the next block reads)"
_V3_SUBROWS = "sub-rows: depth 4 and 16 (V = 8), V = 4 and 16 (depth 8), ring chain, isolated masking"
_V3_POOLED = ("potts, {xi}, span masking, the five shapes of the scan pooled (depth 4, 8, 16 at V = 8; V = 4, 16 at "
              "depth 8; 10 seed pairs each)")
LOG_COLLAPSE_MARGIN = math.log(1 / (1 - COLLAPSE_MARGIN))
_LOG_COLLAPSE_REASON = ("a 5 % loss of the layer-1 dimension (the v2 collapse margin), on the log scale: "
                        "log(1 / 0.95)")
_POWER = ("pooled over the five scan shapes for the power of the equivalence test: the v2 networks' per-seed "
          "contrast had a standard deviation of about 0.2, so 10 pairs give a 95 % interval of about +-0.15 and "
          "50 pairs about +-0.06, against the margin 0.05")


def _v3(id_: str, chapter: str, claim: str, statistic: str, kind: str, direction: str, margin: float,
        reason: str, primary: str, aggregation: str, figure: str, contrasts: tuple[str, ...], source: str = "P1",
        positive_control: str = "", replaces: str = "", scale: str = "difference",
        margin_range: tuple[float, float] | None = None) -> ClaimSpec:
    return ClaimSpec(id=id_, chapter=chapter, source=source, claim=claim, statistic=f"{statistic}; {V3_PROBES}",
                     kind=kind, direction=direction, margin=margin, margin_reason=reason, premise=_PREMISE,
                     primary=primary, interval="sign-flip", contrasts=contrasts, scale=scale,
                     positive_control=positive_control, aggregation=aggregation, figure=figure,
                     replaces=replaces, margin_range=margin_range)


MONOTONE_CONTRAST = "a monotone profile (no rise beyond the tolerance)"
PROTOCOL_V3 = (
    _v3("P1-i-monotone-v3", "rank_collapse",
        "The effective rank of the residual stream never rises with depth after training (the monotone half of "
        "claim (i); the fall itself is P1-ii-present-v3's test)",
        "per seed, the violation mass of erank(LN(h^l)) over l >= 1 (rgnb.mlp.statistics.violation_mass, "
        "tolerance 1 % of erank(1) per step; its curve over tolerances 0 to 5 % shown), masked rows",
        "absence", "above", COLLAPSE_MARGIN,
        "rises totalling 5 % of the layer-1 dimension, the scale of the collapse margin: a smaller total rise "
        "is within what 'monotone' can carry", _V3_MAIN.format(xi="xi ~ 1"),
        f"mean over seeds; {_V3_SUBROWS}; xi ~ 7", "fig-rank-profile", (MONOTONE_CONTRAST,),
        positive_control="the same networks at initialisation, whose stream widens with depth",
        replaces="P1-i-monotone", margin_range=(0.0, 0.2)),
    _v3("P1-ii-present-v3", "selectivity",
        "Collapse is present on the short-range chain: deeper layers keep fewer dimensions",
        "per seed, log c, c = erank(L) / erank(1) of LN(h^l), masked rows (normalised by the same network's "
        "layer 1: the claim is about depth, and the scan's shapes differ in erank(1))",
        "presence", "below", LOG_COLLAPSE_MARGIN, _LOG_COLLAPSE_REASON, _V3_POOLED.format(xi="xi ~ 1"),
        f"mean over seed pairs; {_V3_SUBROWS.replace('sub-rows: ', 'sub-rows: each shape, ')}", "fig-selectivity",
        ("initialisation", "shuffled chain"), replaces="P1-ii-present"),
    _v3("P1-ii-absent-v3", "selectivity",
        "Collapse is absent on the long-range chain (xi ~ 7): no more loss of dimensions than a network trained "
        "on a chain without correlations",
        "per seed, log c of LN(h^l), masked rows; the contrast with the seed's shuffled-chain network on the same "
        "probes (the reference 'absent' means: what training alone does, since training on any chain collapses "
        "the stream against initialisation)", "absence", "below", LOG_COLLAPSE_MARGIN, _LOG_COLLAPSE_REASON,
        _V3_POOLED.format(xi="xi ~ 7"), f"mean over seed pairs, {_POWER}; sub-rows: each shape", "fig-selectivity",
        ("shuffled chain",),
        positive_control="the same contrast at xi ~ 1, where the paper says collapse is present",
        replaces="P1-ii-absent"),
    _v3("P1-ii-selective", "selectivity",
        "The collapse is selective: stronger on the short-range chain than on the long-range one",
        "per seed, the difference in differences [log c(xi ~ 1) - log c(xi ~ 7)] of the chain networks minus the "
        "same difference of the seed's shuffled-chain network on the same two probe sets", "presence", "below",
        LOG_COLLAPSE_MARGIN, _LOG_COLLAPSE_REASON, _V3_POOLED.format(xi="xi ~ 1 against xi ~ 7"),
        "mean over seed pairs; sub-rows: each shape", "fig-selectivity", ("shuffled chain",)),
    _v3("ours-ii-dose-response", "selectivity",
        "The collapse weakens as the correlation length grows, over the whole xi grid",
        "per seed, the least-squares slope over the grid xi in {1, 3, 7} of (log c of the chain network minus log c "
        "of the seed's shuffled-chain network on the same probes) on log xi (rgnb.mlp.statistics.trend_slopes)",
        "presence", "above", 0.0, "0: the claim is the sign of a trend", "potts, every xi of the grid, depth 8, V = 8",
        "mean over seeds; sub-row: ring chain", "fig-selectivity", ("shuffled chain",), source="ours"),
    _v3("P1-iii-concentrated-v3", "kernel_drift",
        "Inter-layer kernel drift is concentrated in one or two transitions after training",
        "per seed, the top-two share of 1 - CKA over the transitions l -> l+1, l >= 1 (the reading registered: "
        "training concentrates the drift, so the null is the same network at initialisation; the chain's part is "
        "ours-iii-concentration-by-chain)", "presence", "above", 0.15,
        "0.15 of the total drift, about one transition's share of a uniform profile at depth 8 (1/7)",
        _V3_MAIN.format(xi="xi ~ 1"), f"mean over seeds; {_V3_SUBROWS}", "fig-drift-profile", ("initialisation",),
        replaces="P1-iii-concentrated"),
    _v3("ours-iii-concentration-by-chain", "kernel_drift",
        "The chain's correlations, not training alone, concentrate the drift",
        "per seed, the excess concentration over the live transitions (rgnb.mlp.statistics."
        "live_excess_concentration: top-two share over transitions with at least 1 % of the largest drift, "
        "minus its uniform value 2 / n_live), so a null whose deep layers are dead is not counted as concentrated",
        "presence", "above", 0.15, "0.15 of the total drift, the concentration margin of P1-iii",
        _V3_MAIN.format(xi="xi ~ 1"), f"mean over seeds; {_V3_SUBROWS}", "fig-drift-profile", ("shuffled chain",),
        source="ours"),
    _v3("P1-iii-plateau-v3", "kernel_drift",
        "The other layers sit near a fixed point (a plateau of small drift) after training",
        "per seed, the plateau level: the largest drift outside the top two transitions (l >= 1), on the log scale",
        "presence", "below", math.log(2.0), "a halving of the drift (the v2 ratio 0.5), on the log scale",
        _V3_MAIN.format(xi="xi ~ 1"), f"mean over seeds of log ratios; {_V3_SUBROWS}", "fig-drift-profile",
        ("initialisation",), replaces="P1-iii-plateau", scale="log-ratio"),
    _v3("ours-bulk-tracks-vocab", "rank_collapse",
        "The bulk dimension of the trained stream is the readout's V - 1 at every vocabulary size, while the "
        "effective rank's fall sits in the spectral tail",
        "per network, the mean over l >= 1 of the PCs for 90 % of the variance of LN(h^l) minus V - 1 "
        "(rgnb.mlp.statistics.bulk_excess), masked rows; one contrast per vocabulary size, every one within the "
        "margin (an intersection-union test: the claim is 'at every vocabulary size', and a pooled mean lets "
        "deviations of opposite sign at different V cancel)", "absence", "above", 1.0,
        "one dimension: the resolution of an integer count of components",
        "potts xi ~ 1 and ~ 7, depth 8, V = 4, 8 and 16, one contrast per V (20 networks each)",
        "mean over networks per V; sub-rows: each V", "fig-rank-profile", ("the readout's dimension V - 1, at each V",),
        source="ours", positive_control="the same networks at initialisation, whose bulk is not set by the readout"),
)


READING_LABEL = "the mixer without LayerNorm"
#: Each main-reading figure's twin in the robustness chapter.
_ROBUST_FIGURES = {"fig-rank-profile": "fig-robust-rank", "fig-selectivity": "fig-robust-selectivity",
                   "fig-drift-profile": "fig-robust-drift"}


def robust(spec: ClaimSpec) -> ClaimSpec:
    """The same test for the robustness reading (the mixer without LayerNorm): id ``robust-<id>``, our claim."""
    return dataclasses.replace(spec, id=f"robust-{spec.id}", chapter="robustness", source="ours",
                               claim=f"{spec.claim} [{READING_LABEL}]", figure=_ROBUST_FIGURES[spec.figure],
                               primary=spec.primary.replace("span masking", f"span masking, {READING_LABEL}"))


ROBUSTNESS = tuple(robust(s) for s in FINDINGS)

#: The protocol-v3 claims the robustness reading can test: every one but the bulk row (it needs the vocabulary
#: scan, which was not retrained without LayerNorm) and the dose-response row (its networks have two chains,
#: xi ~ 1 and ~ 7, not the grid).
ROBUST_V3_IDS = ("P1-i-monotone-v3", "P1-ii-present-v3", "P1-ii-absent-v3", "P1-ii-selective",
                 "P1-iii-concentrated-v3", "ours-iii-concentration-by-chain", "P1-iii-plateau-v3")
_ROBUST_V3_PRIMARY = ("potts, {xi}, span masking, depth 8, V = 8, width 32, T = 16, {reading} (10 seed pairs: "
                      "the scan was not retrained without LayerNorm), {steps} steps")
_ROBUST_V3_XI = {"P1-ii-absent-v3": "xi ~ 7", "P1-ii-selective": "xi ~ 1 against xi ~ 7"}


def robust_v3(spec: ClaimSpec) -> ClaimSpec:
    """A protocol-v3 test for the robustness reading (the mixer without LayerNorm) at the main shape only: id
    ``robust-<id>``, our claim; it replaces the v2 robustness row of the claim it re-declares, if any."""
    primary = _ROBUST_V3_PRIMARY.format(xi=_ROBUST_V3_XI.get(spec.id, "xi ~ 1"), reading=READING_LABEL,
                                        steps=_NO_LAYERNORM_STEPS)
    return dataclasses.replace(spec, id=f"robust-{spec.id}", chapter="robustness", source="ours",
                               claim=f"{spec.claim} [{READING_LABEL}]", figure=_ROBUST_FIGURES[spec.figure], primary=primary,
                               aggregation="mean over seed pairs (no sub-rows)",
                               replaces=f"robust-{spec.replaces}" if spec.replaces else "")


ROBUSTNESS_V3 = tuple(robust_v3(s) for s in PROTOCOL_V3 if s.id in ROBUST_V3_IDS)

_GATE = "every network of every shipped sweep (the worst network decides)"
TRAINING = (
    ClaimSpec(id="training-gate-excess", chapter="training", source="sanity check",
              claim="Every network reaches the exact Bayes floor: held-out excess loss at most 0.01 nats per masked "
                    "token", statistic="largest held-out excess loss over the networks (nats per masked token)",
              kind="check", direction="below", margin=GATE_EXCESS_NATS, premise="none (this is the findings' premise)",
              primary=_GATE, interval="exact", aggregation="the worst network; sub-rows: each sweep",
              figure="fig-training-gate"),
    ClaimSpec(id="training-gate-share", chapter="training", source="sanity check",
              claim="Every network recovers at least 95 % of the context information, (ln V - loss) / (ln V - Bayes)",
              statistic="smallest recovered share over the networks (chains with context information)",
              kind="check", direction="above", margin=GATE_SHARE, premise="none (this is the findings' premise)",
              primary=_GATE, interval="exact", aggregation="the worst network; sub-rows: each sweep",
              figure="fig-training-gate"),
)

REGISTRY = FINDINGS + (RELEVANCE_GAIN,) + ROBUSTNESS + TRAINING + PROTOCOL_V3 + ROBUSTNESS_V3
BY_ID = {s.id: s for s in REGISTRY}
