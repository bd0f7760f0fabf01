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

READING_LABEL = "the mixer without LayerNorm"


def robust(spec: ClaimSpec) -> ClaimSpec:
    """The same test for the robustness reading (the mixer without LayerNorm): id ``robust-<id>``, our claim."""
    figures = {"fig-rank-profile": "fig-robust-rank", "fig-selectivity": "fig-robust-selectivity",
               "fig-drift-profile": "fig-robust-drift"}
    return dataclasses.replace(spec, id=f"robust-{spec.id}", chapter="robustness", source="ours",
                               claim=f"{spec.claim} [{READING_LABEL}]", figure=figures[spec.figure],
                               primary=spec.primary.replace("span masking", f"span masking, {READING_LABEL}"))


ROBUSTNESS = tuple(robust(s) for s in FINDINGS)

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

REGISTRY = FINDINGS + (RELEVANCE_GAIN,) + ROBUSTNESS + TRAINING
BY_ID = {s.id: s for s in REGISTRY}
