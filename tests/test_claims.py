"""rgnb.claims: the verdict rule, recording, and the book-wide summary."""

import pytest

from rgnb import claims
from rgnb.stats import Interval


@pytest.mark.parametrize("interval,passes,verdict", [
    (Interval(0.1, 0.05, 0.2), "below", claims.REPRODUCED),
    (Interval(0.5, 0.3, 0.7), "below", claims.NOT_REPRODUCED),
    (Interval(0.3, 0.1, 0.4), "below", claims.INCONCLUSIVE),
    (Interval(0.5, 0.3, 0.7), "above", claims.REPRODUCED),
    (Interval(0.1, 0.05, 0.2), "above", claims.NOT_REPRODUCED),
    (Interval(0.3, 0.1, 0.4), "above", claims.INCONCLUSIVE),
])
def test_interval_verdict(interval, passes, verdict):
    assert claims.interval_verdict(interval, 0.25, passes) == verdict


def test_bad_inputs_rejected():
    with pytest.raises(ValueError, match="passes"):
        claims.Threshold("x", 1.0, "near")
    with pytest.raises(ValueError, match="verdict"):
        claims.Claim("c", "t", "m", "probably")


def test_record_load_and_summary(monkeypatch, tmp_path):
    monkeypatch.setenv("RGNB_RUN_DIR", str(tmp_path))
    threshold = claims.Threshold("error", 0.1, "below")
    rows = [claims.check("small error", threshold, Interval(0.01, 0.0, 0.02), figure="fig 1"),
            claims.check_value("exact | identity", threshold, 0.5)]
    table = claims.record_claims("chain_spectra", rows)
    md = table._repr_markdown_()
    assert "exact \\| identity" in md and "**reproduced**" in md and "**not reproduced**" in md
    assert claims.load_claims() == {"chain_spectra": rows}
    summary = claims.summary_markdown()
    assert "2 claims: 1 reproduced, 1 not reproduced, 0 inconclusive" in summary
