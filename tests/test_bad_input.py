"""Bad input is refused (issue 26): every case a ValueError (a TypeError too where the type is wrong,
:class:`rgnb.validate.BadType`) naming the parameter and its allowed range; sizes that would exhaust
memory say how much they would take. Table-driven, plus a seeded property test that
``claims.evaluate`` refuses malformed intervals however they were built.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rgnb import claims, effects, metrics, stats
from rgnb import eft, rg
from rgnb.claims import ClaimSpec, Evidence
from rgnb.stats import Interval
from rgnb.validate import BadType

NAN = float("nan")


def _spec(**kw) -> ClaimSpec:
    base = dict(id="t-claim", chapter="chain_spectra", source="ours", claim="x rises", statistic="x",
                kind="presence", direction="above", margin=0.1, premise="none", primary="main",
                interval="normal-se", margin_reason="a test", contrasts=("null",))
    return ClaimSpec(**{**base, **kw})


def _evaluate(evidence: Evidence):
    return claims.evaluate(_spec(), evidence, profile="smoke", events=[])


def _bypass_interval(estimate, low, high) -> Interval:
    """An Interval built without its constructor's checks (as ``_make`` or unpickling old data would)."""
    return tuple.__new__(Interval, (estimate, low, high, 0.95, "student-t", 3))


# (call, exception, message fragment): the message names the parameter and what is allowed.
CASES = [
    # claims: intervals and the ledger
    (lambda: Interval(1.0, 2.0, 0.5), ValueError, "interval must have low <= high, got low 2.0 > high 0.5"),
    (lambda: Interval(NAN, 0.0, 1.0), ValueError, "interval.estimate must not be NaN"),
    (lambda: Interval(0.5, NAN, 1.0), ValueError, "interval.low must not be NaN"),
    (lambda: Interval(0.5, 0.0, NAN), ValueError, "interval.high must not be NaN"),
    (lambda: Interval("a", 0.0, 1.0), TypeError, "interval.estimate must be a number"),
    (lambda: Interval(0.5, 0.0, 1.0, level=1.5), ValueError, "level must be a finite number in (0, 1)"),
    (lambda: _evaluate(Evidence("main", {"null": effects.normal(1.0, 0.1)}, statistic=_bypass_interval(1, 2, 0))),
     ValueError, "statistic must have low <= high"),
    (lambda: _evaluate(Evidence("main", {"null": effects.normal(1.0, 0.1)}, statistic=_bypass_interval(NAN, 0, 1))),
     ValueError, "statistic.estimate must not be NaN"),
    (lambda: Evidence("main", {"null": effects.normal(1.0, 0.1)}, statistic=(0.5, 0.0, 1.0)),
     ValueError, "statistic must be an rgnb.stats.Interval, got tuple"),
    (lambda: Evidence(3, {"null": effects.normal(1.0, 0.1)}), ValueError, "configuration must name the configuration"),
    (lambda: Evidence("main", {"null": 0.5}), ValueError, "contrasts['null'] must be an rgnb.effects.Effect"),
    (lambda: effects.normal(NAN, 0.1), ValueError, "estimate must be a finite number"),
    (lambda: effects.normal(1.0, NAN), ValueError, "se must be a finite number in [0, inf]"),
    (lambda: effects.normal(1.0, -0.1), ValueError, "se must be a finite number in [0, inf], got -0.1"),
    (lambda: effects.Effect(1.0, "sign-flip", 2, samples=(NAN, 1.0)), ValueError, "samples must contain only finite"),
    (lambda: effects.Effect(1.0, "normal-se", -1, se=0.1), ValueError, "n must be an integer in [0, inf], got -1"),
    (lambda: effects.exact(None), TypeError, "value must be a finite number"),
    (lambda: effects.normal(1.0, 0.1).p_above(NAN), ValueError, "delta must be a finite number"),
    (lambda: effects.normal(1.0, 0.1).p_below(NAN), ValueError, "delta must be a finite number"),
    (lambda: effects.from_differences([1.0, NAN]), ValueError, "differences must contain only finite numbers"),
    (lambda: effects.paired("ab", [1.0, 2.0]), TypeError, "trained must be an array of real numbers"),
    (lambda: claims.load_ledger("/nonexistent"), FileNotFoundError, "/nonexistent"),
    (lambda: claims.evaluate(_spec(), "evidence", profile="smoke", events=[]), ValueError,
     "primary must be an rgnb.claims.Evidence"),
    (lambda: claims.evaluate(_spec(), Evidence("main", {"null": effects.normal(1.0, 0.1)}), profile="bogus",
                             events=[]), ValueError, "profile must be one of ('smoke', 'reference', 'full')"),
    (lambda: _spec(margin=NAN), ValueError, "margin must be a finite number in [0, inf]"),
    (lambda: _spec(margin=-1.0), ValueError, "margin must be a finite number in [0, inf], got -1.0"),
    (lambda: _spec(kind="maybe"), ValueError, "kind must be one of ('presence', 'absence', 'check')"),
    # stats (stats.one_sided_p was removed with the v2 rule: Effect.p_above / p_below above replace it)
    (lambda: stats.exact(None), TypeError, "value must be a number (not NaN)"),
    (lambda: stats.exact(NAN), ValueError, "value must be a number (not NaN)"),
    (lambda: stats.exact("1"), TypeError, "value must be a number"),
    (lambda: stats.mean_ci([1.0, NAN, 2.0]), ValueError, "samples must contain only finite numbers"),
    (lambda: stats.mean_ci("abc"), TypeError, "samples must be an array of real numbers"),
    (lambda: stats.mean_ci([1.0, 2.0], level=NAN), ValueError, "level must be a finite number in (0, 1)"),
    (lambda: stats.normal_ci(1.0, NAN), ValueError, "se must be a finite number in [0, inf]"),
    (lambda: stats.holm([0.1, NAN]), ValueError, "p_values must contain only finite numbers"),
    (lambda: stats.holm([0.1, 1.5]), ValueError, "p_values must lie in [0, 1]"),
    # metrics
    (lambda: metrics.effective_rank(np.ones((4, 3)) * (1 + 1j)), TypeError,
     "X must be an array of real numbers, got complex"),
    (lambda: metrics.effective_rank("abc"), TypeError, "X must be an array of real numbers"),
    (lambda: metrics.effective_rank(np.full((4, 3), NAN)), ValueError, "X must contain only finite numbers"),
    (lambda: metrics.effective_rank(np.ones(3)), ValueError, "X must have shape (..., N, d)"),
    (lambda: metrics.participation_ratio(np.ones((4, 3)) * 1j), TypeError, "got complex"),
    (lambda: metrics.linear_cka(np.ones((4, 3)), np.ones((5, 3))), ValueError, "X and Y must agree"),
    # eft
    (lambda: eft.n_packed(-3), ValueError, "k must be an integer in [1, inf], got -3"),
    (lambda: eft.n_packed(2.5), TypeError, "k must be an integer in [1, inf], got 2.5"),
    (lambda: eft.gauss_hermite(2.5), TypeError, "m must be an integer in [1, inf], got 2.5"),
    (lambda: eft.gauss_hermite(0), ValueError, "m must be an integer in [1, inf], got 0"),
    (lambda: eft.gauss_hermite("48"), TypeError, "m must be an integer"),
    (lambda: eft.gauss_hermite(10**6), ValueError, "m asks for an array of 7.28 TiB, above the limit of 8 GiB"),
    (lambda: eft.gaussian_F([[NAN, 0.0], [0.0, 1.0]], "relu"), ValueError, "K must contain only finite numbers"),
    (lambda: eft.gaussian_F([[1.0, 2.0], [2.0, 1.0]], "relu"), ValueError, "K must be positive semi-definite"),
    (lambda: eft.gaussian_F([[-1.0]], "tanh"), ValueError, "K must be positive semi-definite"),
    (lambda: eft.gaussian_F([[1.0, 0.5], [0.1, 1.0]], "erf"), ValueError, "K must be symmetric"),
    (lambda: eft.gaussian_F(np.ones(3), "relu"), ValueError, "K must have shape (..., k, k)"),
    (lambda: eft.gaussian_F("K", "relu"), TypeError, "K must be an array of real numbers"),
    (lambda: eft.gaussian_F(np.eye(2), "sigmoid"), ValueError, "activation must be one of"),
    # rg
    (lambda: rg.gaussian_chain_covariance(NAN, 4), ValueError, "phi must be a finite number in [-1, 1], got nan"),
    (lambda: rg.gaussian_chain_covariance(0.5, -1), ValueError, "n must be an integer in [1, inf], got -1"),
    (lambda: rg.gaussian_chain_covariance("0.5", 4), TypeError, "phi must be a finite number"),
    (lambda: rg.gaussian_chain_covariance(1.5, 4), ValueError, "phi must be a finite number in [-1, 1], got 1.5"),
    (lambda: rg.gaussian_chain_covariance(0.5, 10**7), ValueError, "n asks for an array of 2.13 PiB"),
    (lambda: rg.sample_ising_chain(0.5, 0.0, 10**6, 10**6), ValueError,
     "n_chains * length asks for an array of 9.09 TiB, above the limit of 8 GiB"),
    (lambda: rg.sample_ising_chain(NAN, 0.0, 4, 8), ValueError, "K must be a finite number in [-20, 20]"),
    (lambda: rg.sample_ising_chain(0.5, 0.0, 0, 8), ValueError, "n_chains must be an integer in [1, inf], got 0"),
    (lambda: rg.sample_ising_chain(0.5, 0.0, 4, 8, seed=-1), ValueError, "seed must be an integer in [0, "),
    (lambda: rg.sample_ising_chain(0.5, "h", 4, 8), TypeError, "h must be a finite number in [-20, 20]"),
]


@pytest.mark.parametrize("call,error,fragment", CASES, ids=[f"case{i:02d}" for i in range(len(CASES))])
def test_bad_input_is_refused_naming_the_parameter(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)
    if error is TypeError:  # a wrong type is also a ValueError for callers that catch those
        assert isinstance(info.value, ValueError)


def test_the_table_covers_the_issue_cases():
    assert len(CASES) >= 60


def test_the_ledger_writer_never_emits_nan(tmp_path):
    from rgnb.provenance import ChapterRun

    row = _evaluate(Evidence("main", {"null": effects.normal(1.0, 0.1)}))
    run = ChapterRun("chain_spectra", "smoke", None, 0, {})
    bad = row.__class__(**{**row.to_json(), "critical_margin": NAN})
    with pytest.raises(ValueError, match=r"would hold a NaN at rows\[0\]\.critical_margin"):
        claims.record(run, [bad], tmp_path, events=[])
    assert not list(tmp_path.iterdir())
    claims.record(run, [row], tmp_path, events=[])
    text = (tmp_path / "chain_spectra.claims.json").read_text()
    assert "NaN" not in text and json.loads(text)["rows"][0]["id"] == "t-claim"


def test_an_empty_run_directory_has_no_rows(tmp_path):
    assert claims.load_ledger(tmp_path) == []


def _malformed(rng: np.random.Generator) -> tuple[float, float, float]:
    """A random malformed (estimate, low, high): low > high (ends possibly infinite), or a NaN somewhere."""
    a, b = sorted(rng.normal(0, 10 ** rng.uniform(-3, 3), size=2))
    est = float(rng.uniform(a - 1, b + 1))
    if rng.random() < 0.5:
        low, high = b + rng.exponential(1) + 1e-9, a
        if rng.random() < 0.2:
            low, high = (math.inf, high) if rng.random() < 0.5 else (low, -math.inf)
        return est, float(low), float(high)
    iv = [est, float(a), float(b)]
    iv[rng.integers(0, 3)] = NAN
    return tuple(iv)


def test_property_evaluate_refuses_every_malformed_interval():
    rng = np.random.default_rng(20261207)
    good = {"null": effects.normal(1.0, 0.1)}
    for _ in range(300):
        est, low, high = _malformed(rng)
        with pytest.raises(ValueError):  # the constructor refuses it ...
            Interval(est, low, high)
        for place in ("statistic", "contrast"):  # ... and so does evaluate, however it was built
            bad = _bypass_interval(est, low, high)
            if place == "statistic":
                ev = Evidence("main", good, statistic=bad)
            else:
                broken = effects.normal(1.0, 0.1)
                object.__setattr__(broken, "interval", lambda level=0.95, iv=bad: iv)
                ev = Evidence("main", {"null": broken})
            with pytest.raises(ValueError, match="must (have low <= high|not be NaN)"):
                _evaluate(ev)


def test_property_well_formed_intervals_pass():
    rng = np.random.default_rng(7)
    for _ in range(200):
        a, b = sorted(rng.normal(0, 10, size=2))
        iv = Interval(float(rng.uniform(a, b)), float(a), float(b))
        row = _evaluate(Evidence("main", {"null": effects.normal(1.0, 0.1)}, statistic=iv))
        assert row.verdict in claims.VERDICTS
    assert Interval(0.0, -math.inf, math.inf).high == math.inf  # a sign-flip interval over too few seeds
