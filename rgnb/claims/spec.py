"""A registered claim (:class:`ClaimSpec`) and the evidence one configuration gives it (:class:`Evidence`).

A spec is declared in a chapter's registry before the run that fills it. Its *test* is what the
spec hash covers (:data:`TEST_FIELDS`): the statistic, the kind of claim, the direction, the margin,
the contrasts against the nulls, the premise, the primary configuration, the interval method, the
scale, the positive control, the placebo and the aggregation. The wording of the claim, its
figure and the margin's reason are not part of the test: editing them changes no verdict.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Mapping

from rgnb.effects import KINDS as EFFECT_KINDS
from rgnb.effects import SCALES, Effect
from rgnb.stats import Interval
from rgnb.validate import check_choice, check_float

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
PREMISE_NOT_MET = "premise not met"
VACUOUS = "vacuous test"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, PREMISE_NOT_MET, VACUOUS)

PAPERS = ("P1", "P2", "P3")
SANITY = "sanity check"
SOURCES = PAPERS + ("ours", SANITY)
#: presence: "X falls / is larger"; absence: "X is absent here" (equivalence); check: a sanity check of
#: the book's machinery against a bound (no null).
CLAIM_KINDS = ("presence", "absence", "check")
DIRECTIONS = ("above", "below")
#: Fields of a spec that define its test (hashed); the rest is wording.
TEST_FIELDS = ("statistic", "kind", "direction", "margin", "contrasts", "premise", "primary", "interval", "scale",
               "positive_control", "placebo", "aggregation")


@dataclasses.dataclass(frozen=True)
class ClaimSpec:
    """A claim and its registered test.

    ``kind="presence"``: every contrast (the statistic on the trained object minus the same statistic
    on the null ``contrasts[k]``) lies beyond ``margin`` in ``direction`` (``above``: > +margin,
    ``below``: < -margin). ``kind="absence"``: every contrast lies within +-``margin`` (two one-sided
    tests), and the ``positive_control`` (the same contrast where the paper says the effect is
    present) lies wholly outside +-``margin`` (``direction`` is the side the paper expects it on; shown,
    not tested). ``kind="check"``: the statistic itself lies on
    the ``direction`` side of ``margin`` (a bound). ``primary``: the configuration that decides the row;
    other configurations are sub-rows. ``margin_reason``: why this margin, independent of results.
    """

    id: str
    chapter: str
    source: str
    claim: str
    statistic: str
    kind: str
    direction: str
    margin: float
    premise: str
    primary: str
    interval: str
    margin_reason: str = ""
    contrasts: tuple[str, ...] = ()
    scale: str = "difference"
    positive_control: str = ""
    placebo: str = ""
    aggregation: str = ""
    margin_range: tuple[float, float] | None = None
    figure: str = ""
    replaces: str = ""

    def __post_init__(self) -> None:
        for name in ("id", "chapter", "claim", "statistic", "premise", "primary"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"{name} must be a non-empty string, got {getattr(self, name)!r}")
        check_choice("source", self.source, SOURCES)
        check_choice("kind", self.kind, CLAIM_KINDS)
        check_choice("direction", self.direction, DIRECTIONS)
        check_choice("interval", self.interval, EFFECT_KINDS)
        check_choice("scale", self.scale, SCALES)
        object.__setattr__(self, "contrasts", tuple(self.contrasts))
        if self.kind == "check":
            object.__setattr__(self, "margin", check_float("margin", self.margin))
            if self.source != SANITY:
                raise ValueError(f"claim {self.id!r}: only a {SANITY!r} may be a check; a claim is tested as "
                                 "contrasts against its nulls")
        else:
            object.__setattr__(self, "margin", check_float("margin", self.margin, 0.0))
            if not self.contrasts:
                raise ValueError(f"claim {self.id!r}: a {self.kind} claim needs its contrasts (the nulls it is "
                                 "compared with)")
            if not self.margin_reason.strip():
                raise ValueError(f"claim {self.id!r}: margin_reason must say why the margin is {self.margin:g}, "
                                 "independently of the results")
        if self.kind == "absence" and not self.positive_control.strip():
            raise ValueError(f"claim {self.id!r}: an absence claim needs a positive_control (where the same test "
                             "must detect the effect)")
        if self.margin_range is not None:
            lo, hi = (check_float("margin_range", x, 0.0 if self.kind != "check" else -float("inf"))
                      for x in self.margin_range)
            if not lo <= self.margin <= hi:
                raise ValueError(f"margin_range must contain the margin {self.margin:g}, got {self.margin_range}")
            object.__setattr__(self, "margin_range", (lo, hi))

    def test_fields(self) -> dict:
        """The fields that define the test (:data:`TEST_FIELDS`), JSON-ready."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in
                ((k, getattr(self, k)) for k in TEST_FIELDS)}

    def spec_hash(self) -> str:
        """SHA-256 (16 hex digits) of the test fields: the registration a ledger row is checked against."""
        text = json.dumps({"id": self.id, **self.test_fields()}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def sign(self) -> int:
        return 1 if self.direction == "above" else -1

    def test_text(self) -> str:
        """The registered test in words, e.g. ``every contrast < -0.05 (95 % CI)``."""
        m = self.margin
        if self.kind == "check":
            return f"whole 95 % CI {'>' if self.direction == 'above' else '<'} {m:g}"
        if self.kind == "presence":
            bound = f"> {m:g}" if self.direction == "above" else f"< {-m:g}"
            return f"every contrast {bound} (95 % CI, {self.interval})"
        return (f"every contrast within +-{m:g} (two one-sided tests, 95 % CI, {self.interval}); the positive "
                f"control outside +-{m:g}")


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What one configuration gives a claim: the contrasts (name -> :class:`rgnb.effects.Effect`).

    For a check, ``contrasts`` holds the statistic itself under the name ``"value"``.
    ``positive_control`` (absence) and ``placebo`` (presence): effects of the same test where the
    paper says the effect is present, and with a null in the trained object's place.
    ``statistic``: the claim's statistic on the trained object (shown, not tested).
    """

    configuration: str
    contrasts: Mapping[str, Effect]
    statistic: Interval | None = None
    positive_control: Mapping[str, Effect] = dataclasses.field(default_factory=dict)
    placebo: Mapping[str, Effect] = dataclasses.field(default_factory=dict)
    premise_met: bool = True
    premise_detail: str = ""
    n: int = 0
    n_unit: str = "seeds"
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.configuration, str) or not self.configuration.strip():
            raise ValueError("configuration must name the configuration (e.g. 'potts, xi ~ 1, depth 8'), "
                             f"got {self.configuration!r}")
        if self.statistic is not None and not isinstance(self.statistic, Interval):
            raise ValueError(f"statistic must be an rgnb.stats.Interval, got {type(self.statistic).__name__}")
        for field in ("contrasts", "positive_control", "placebo"):
            value = dict(getattr(self, field))
            for name, e in value.items():
                if not isinstance(e, Effect):
                    raise ValueError(f"{field}[{name!r}] must be an rgnb.effects.Effect, got {type(e).__name__}")
            object.__setattr__(self, field, value)
        if self.premise_met and not self.contrasts:
            raise ValueError(f"evidence for {self.configuration!r} has no contrasts")
