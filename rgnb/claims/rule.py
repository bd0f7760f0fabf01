"""The v3 verdict rule (``shared/spec/verdicts.md``, v3), and how a verdict depends on its margin.

================ ==================================================================================
verdict          condition (s = +1 for ``above``, -1 for ``below``; CIs at 95 %)
================ ==================================================================================
premise not met  the claim's premise failed: no verdict on the claim is drawn
presence
  reproduced     every contrast's CI lies beyond s * margin, and the placebo (if any) does not
  vacuous test   the same, and the placebo (the test with a null in the trained object's place) passes too
  not reproduced some contrast's whole CI lies short of s * margin
  inconclusive   otherwise (a CI straddles the margin)
absence
  reproduced     every contrast's CI lies within +-margin and the positive control detects the effect
                 (its CI wholly outside +-margin, on either side; Bonferroni over several controls)
  vacuous test   every contrast within +-margin, and so is the positive control: the test cannot see it
  not reproduced some contrast's whole CI lies outside +-margin (the effect is there)
  inconclusive   otherwise; "underpowered" when the contrasts are within +-margin but the control is not
                 detected
check            the statistic's CI wholly on the ``direction`` side of the bound: reproduced; wholly on
                 the other side: not reproduced; otherwise inconclusive
================ ==================================================================================

Every row carries one p-value (intersection-union: the largest of its one-sided p-values), so
the 95 % CIs and the raw decision at one-sided :data:`ALPHA` agree; Holm runs over the ledger.
"""

from __future__ import annotations

import dataclasses
import math

from rgnb.claims.spec import (INCONCLUSIVE, NOT_REPRODUCED, PREMISE_NOT_MET, REPRODUCED, VACUOUS, ClaimSpec,
                              Evidence)
from rgnb.effects import Effect

#: One-sided level of every test (a two-sided 95 % interval).
ALPHA = 0.025
LEVEL = 1 - 2 * ALPHA


@dataclasses.dataclass(frozen=True)
class Decision:
    verdict: str
    p_value: float | None
    reason: str


def _beyond(e: Effect, bound: float, sign: int, level: float = LEVEL) -> str:
    """``"pass"`` (CI beyond ``bound`` in direction ``sign``), ``"fail"`` (wholly short of it) or ``"straddle"``."""
    iv = e.interval(level)
    lo, hi = (iv.low, iv.high) if sign > 0 else (-iv.high, -iv.low)
    b = sign * bound
    return "pass" if lo > b else "fail" if hi < b else "straddle"


def _p_beyond(e: Effect, bound: float, sign: int) -> float:
    return e.p_above(bound) if sign > 0 else e.p_below(bound)


def _within(e: Effect, margin: float, level: float = LEVEL) -> str:
    """``"pass"`` (CI within +-margin), ``"fail"`` (wholly outside) or ``"straddle"``."""
    iv = e.interval(level)
    if -margin < iv.low and iv.high < margin:
        return "pass"
    return "fail" if (iv.low > margin or iv.high < -margin) else "straddle"


def _p_within(e: Effect, margin: float) -> float:
    return max(e.p_above(-margin), e.p_below(margin))


def _control(controls: dict[str, Effect], margin: float) -> tuple[str, float]:
    """The positive control: ``"detected"`` (some control's CI wholly outside +-margin, Bonferroni over the
    controls), ``"within"`` (every control passes the equivalence test itself) or ``"not detected"``; and its p."""
    k = len(controls)
    level = 1 - 2 * ALPHA / k
    p = min(1.0, k * min(min(e.p_above(margin), e.p_below(-margin)) for e in controls.values()))
    if any(_within(e, margin, level) == "fail" for e in controls.values()):
        return "detected", p
    if all(_within(e, margin) == "pass" for e in controls.values()):
        return "within", p
    return "not detected", p


def decide(spec: ClaimSpec, ev: Evidence, margin: float | None = None) -> Decision:
    """The verdict of ``spec`` on one configuration's evidence, at ``margin`` (default: the registered one)."""
    m = spec.margin if margin is None else float(margin)
    if not ev.premise_met:
        return Decision(PREMISE_NOT_MET, None, ev.premise_detail or "the premise failed")
    names = list(ev.contrasts)
    if spec.kind == "check":
        e = ev.contrasts[names[0]]
        side = _beyond(e, m, 1) if spec.direction == "above" else _beyond(e, m, -1)
        p = e.p_above(m) if spec.direction == "above" else e.p_below(m)
        v = {"pass": REPRODUCED, "fail": NOT_REPRODUCED, "straddle": INCONCLUSIVE}[side]
        return Decision(v, None if e.kind == "exact" else p, "")
    if spec.kind == "presence":
        bound = spec.sign * m
        sides = {k: _beyond(e, bound, spec.sign) for k, e in ev.contrasts.items()}
        p = max(_p_beyond(e, bound, spec.sign) for e in ev.contrasts.values())
        short = [k for k, s in sides.items() if s == "fail"]
        if short:
            return Decision(NOT_REPRODUCED, p, f"the contrast with {', '.join(short)} lies wholly short of {bound:.3g}")
        open_ = [k for k, s in sides.items() if s == "straddle"]
        if open_:
            return Decision(INCONCLUSIVE, p, f"the contrast with {', '.join(open_)} straddles {bound:.3g}: "
                                             "more seeds (a narrower CI) would settle it")
        if ev.placebo and all(_beyond(e, bound, spec.sign) == "pass" for e in ev.placebo.values()):
            return Decision(VACUOUS, p, f"the placebo ({spec.placebo}) passes the same test")
        return Decision(REPRODUCED, p, "")
    # absence
    if not ev.positive_control:
        raise ValueError(f"claim {spec.id!r} ({ev.configuration}): an absence claim needs its positive control "
                         f"measured ({spec.positive_control})")
    sides = {k: _within(e, m) for k, e in ev.contrasts.items()}
    control, p_control = _control(ev.positive_control, m)
    p = max(max(_p_within(e, m) for e in ev.contrasts.values()), p_control)
    out = [k for k, s in sides.items() if s == "fail"]
    if out:
        return Decision(NOT_REPRODUCED, p, f"the contrast with {', '.join(out)} lies wholly outside +-{m:.3g}: the "
                                           "effect is present")
    if any(s == "straddle" for s in sides.values()):
        return Decision(INCONCLUSIVE, p, f"a contrast's CI is not within +-{m:.3g}: more seeds would settle it")
    if control == "within":
        return Decision(VACUOUS, p, f"the positive control ({spec.positive_control}) is within +-{m:.3g} too: the "
                                    "test cannot see the effect")
    if control == "not detected":
        return Decision(INCONCLUSIVE, p, f"underpowered: the positive control ({spec.positive_control}) does not "
                                         f"detect the effect at +-{m:.3g}")
    return Decision(REPRODUCED, p, "")


def _candidate_margins(spec: ClaimSpec, ev: Evidence) -> list[float]:
    """Margins at which the verdict can change: the ends of every interval the rule looks at."""
    effects = list(ev.contrasts.values()) + list(ev.positive_control.values()) + list(ev.placebo.values())
    levels = [LEVEL] + ([1 - 2 * ALPHA / len(ev.positive_control)] if ev.positive_control else [])
    points = set()
    for e in effects:
        for level in levels:
            iv = e.interval(level)
            for x in (iv.low, iv.high):
                if math.isfinite(x):
                    points.add(abs(x) if spec.kind != "check" else x)
    return sorted(points)


def margin_segments(spec: ClaimSpec, ev: Evidence) -> list[tuple[float, float, str]]:
    """The verdict as a function of the margin: ``[(from, to, verdict), ...]`` covering [0, inf) (checks: the
    real line), adjacent equal verdicts merged. Premise-not-met evidence gives one segment."""
    lo_end = -math.inf if spec.kind == "check" else 0.0
    pts = [x for x in _candidate_margins(spec, ev) if x > lo_end]
    edges = [lo_end] + pts + [math.inf]
    segs: list[list] = []
    for a, b in zip(edges[:-1], edges[1:]):
        probe = (a + b) / 2 if math.isfinite(a) and math.isfinite(b) else (b - 1.0 if math.isfinite(b) else
                                                                           a + 1.0 if math.isfinite(a) else 0.0)
        v = decide(spec, ev, probe).verdict
        if segs and segs[-1][2] == v:
            segs[-1][1] = b
        else:
            segs.append([a, b, v])
    return [(float(a), float(b), v) for a, b, v in segs]


def critical_margin(spec: ClaimSpec, segments: list[tuple[float, float, str]]) -> float | None:
    """The margin nearest the registered one at which the verdict changes (None if it never does)."""
    m = spec.margin
    ends = sorted({x for a, b, _ in segments for x in (a, b) if math.isfinite(x) and not (spec.kind != "check"
                                                                                          and x == 0.0)})
    if len(segments) < 2 or not ends:
        return None
    return min(ends, key=lambda x: (abs(x - m), x))
