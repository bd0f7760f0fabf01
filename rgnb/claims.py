"""Pre-stated tests, computed verdicts, and the claims table every chapter ends with.

A verdict is never typed: it is computed from a confidence interval and a threshold fixed here or
in the concept module before any run. The rule (:func:`interval_verdict`): the claim is
*reproduced* when the whole interval lies on the passing side of the threshold, *not reproduced*
when the whole interval lies on the failing side, and *inconclusive at this profile* otherwise.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Iterable, Literal

from rgnb.provenance import run_dir
from rgnb.stats import Interval

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive at this profile"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A pre-stated test: the statistic passes when it is ``below`` / ``above`` ``value``."""

    statistic: str
    value: float
    passes: Literal["below", "above"]

    def __post_init__(self) -> None:
        if self.passes not in ("below", "above"):
            raise ValueError(f"passes must be 'below' or 'above', got {self.passes!r}")

    def describe(self) -> str:
        return f"{self.statistic} {'<' if self.passes == 'below' else '>'} {self.value:g} (whole CI)"

    def verdict(self, interval: Interval) -> str:
        return interval_verdict(interval, self.value, self.passes)


def interval_verdict(interval: Interval, threshold: float, passes: Literal["below", "above"]) -> str:
    """Verdict from where a confidence interval sits relative to a threshold (see module doc)."""
    if passes not in ("below", "above"):
        raise ValueError(f"passes must be 'below' or 'above', got {passes!r}")
    low, high = interval.low, interval.high
    if passes == "below":
        if high < threshold:
            return REPRODUCED
        if low >= threshold:
            return NOT_REPRODUCED
    else:
        if low > threshold:
            return REPRODUCED
        if high <= threshold:
            return NOT_REPRODUCED
    return INCONCLUSIVE


@dataclasses.dataclass(frozen=True)
class Claim:
    """One row of a claims table."""

    claim: str        # the paper's statement (or ours, marked as such)
    test: str         # the pre-stated test, in words
    measured: str     # the measured figure with its CI, e.g. Interval.format()
    verdict: str      # one of VERDICTS
    figure: str = ""  # where the evidence is shown (figure label or section)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def check(claim: str, threshold: Threshold, interval: Interval, figure: str = "", digits: int = 2) -> Claim:
    """Build a claim row from a pre-stated threshold and a measured interval."""
    return Claim(claim=claim, test=threshold.describe(), measured=interval.format(digits),
                 verdict=threshold.verdict(interval), figure=figure)


def check_value(claim: str, threshold: Threshold, value: float, figure: str = "", digits: int = 2) -> Claim:
    """Build a claim row from a single statistic with no interval (e.g. a worst case over a grid)."""
    value = float(value)
    return Claim(claim=claim, test=threshold.describe().replace(" (whole CI)", ""), measured=f"{value:.{digits}g}",
                 verdict=threshold.verdict(Interval(value, value, value)), figure=figure)


def _escape(cell: str) -> str:
    return str(cell).replace("|", "\\|").replace("\n", " ")


def markdown_table(claims: Iterable[Claim], chapter: str | None = None) -> str:
    """Render claims as a Markdown table (a chapter column first when ``chapter`` is given)."""
    rows = list(claims)
    head = ["claim", "test", "measured (95% CI)", "verdict", "evidence"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in rows:
        lines.append("| " + " | ".join(_escape(x) for x in (c.claim, c.test, c.measured, f"**{c.verdict}**",
                                                               c.figure)) + " |")
    return "\n".join(lines)


class ClaimsTable:
    """Displayable claims table (renders as Markdown in a notebook)."""

    def __init__(self, chapter: str, claims: list[Claim]):
        self.chapter = chapter
        self.claims = claims

    def _repr_markdown_(self) -> str:
        return markdown_table(self.claims)

    def __repr__(self) -> str:
        return markdown_table(self.claims)


def record_claims(chapter: str, claims: Iterable[Claim]) -> ClaimsTable:
    """Write a chapter's claims to the run directory (for the appendix summary) and return the table."""
    rows = list(claims)
    path = run_dir() / f"{chapter}.claims.json"
    path.write_text(json.dumps([dataclasses.asdict(c) for c in rows], indent=2) + "\n")
    return ClaimsTable(chapter, rows)


def load_claims() -> dict[str, list[Claim]]:
    """All chapters' recorded claims, by chapter name."""
    out: dict[str, list[Claim]] = {}
    for path in sorted(run_dir().glob("*.claims.json")):
        out[path.name.removesuffix(".claims.json")] = [Claim(**row) for row in json.loads(path.read_text())]
    return out


def summary_markdown() -> str:
    """One table of every recorded claim across chapters, with verdict counts."""
    from rgnb.execute import chapters

    recorded = load_claims()
    order = [c for c in chapters() if c in recorded] + sorted(set(recorded) - set(chapters()))
    lines = ["| chapter | claim | measured (95% CI) | verdict |", "|---|---|---|---|"]
    counts = {v: 0 for v in VERDICTS}
    for chapter in order:
        for c in recorded[chapter]:
            counts[c.verdict] += 1
            lines.append(f"| {chapter} | {_escape(c.claim)} | {_escape(c.measured)} | **{c.verdict}** |")
    total = ", ".join(f"{n} {v}" for v, n in counts.items())
    return "\n".join(lines) + f"\n\n{sum(counts.values())} claims: {total}."
