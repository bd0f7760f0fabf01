"""Protocol-v3 statistics of the P1 findings (rgnb.mlp.statistics) on profiles with a known answer."""

import math

import numpy as np
import pytest

from rgnb.claims import registry as claims_registry
from rgnb.mlp import registry, statistics


def test_violation_mass_is_zero_on_a_monotone_profile_and_measures_rises():
    falling = np.array([[7.0, 20.0, 18.0, 15.0, 15.0, 14.0]])  # h^0 rises to l = 1: never counted
    assert statistics.violation_mass(falling, 0.0)[0] == 0.0
    # one rise of 2 at l = 2 -> 3, relative to erank(1) = 20; a tolerance of 1 % (0.2) is subtracted
    bump = np.array([[7.0, 20.0, 18.0, 20.0, 15.0, 14.0]])
    assert statistics.violation_mass(bump, 0.0)[0] == pytest.approx(2.0 / 20.0)
    assert statistics.violation_mass(bump, 0.01)[0] == pytest.approx((2.0 - 0.2) / 20.0)
    # a rise within the tolerance is no violation
    tiny = np.array([[7.0, 20.0, 18.0, 18.1, 15.0, 14.0]])
    assert statistics.violation_mass(tiny, 0.01)[0] == 0.0
    assert statistics.violation_mass(tiny, 0.0)[0] == pytest.approx(0.1 / 20.0)


def test_violation_mass_sees_a_peak_at_layer_two_and_a_rising_initialisation():
    """The v2 review's facts: erank peaks at l = 2 in most seeds; at initialisation the stream widens."""
    peak = np.array([[7.0, 17.0, 18.0, 16.0, 15.0, 15.0]])
    rising = np.array([[7.0, 17.0, 18.0, 19.0, 20.0, 21.0]])
    assert statistics.violation_mass(peak)[0] == pytest.approx((1.0 - 0.17) / 17.0)
    assert statistics.violation_mass(rising)[0] == pytest.approx(4 * (1.0 - 0.17) / 17.0)


def test_tolerance_curve_is_non_increasing_in_the_tolerance():
    rng = np.random.default_rng(0)
    p = 10 + rng.normal(size=(6, 9)).cumsum(axis=1)
    p -= p.min() - 1
    curve = statistics.tolerance_curve(p, [0.0, 0.01, 0.02, 0.05])
    assert curve.shape == (4, 6)
    assert np.all(np.diff(curve, axis=0) <= 1e-12)


def test_log_collapse_is_the_log_of_the_ratio_of_the_last_to_the_first_layer():
    p = np.array([[7.0, 20.0, 12.0, 10.0], [7.0, 10.0, 12.0, 10.0]])
    np.testing.assert_allclose(statistics.log_collapse(p), [math.log(0.5), 0.0])


def test_collapse_in_the_tail_only_leaves_the_bulk_at_the_readout_dimension():
    """A stream whose eigenvalues keep V - 1 large directions and lose a small tail: erank falls, PC90 stays."""
    from rgnb import metrics

    V, d, n = 8, 32, 2000
    rng = np.random.default_rng(1)
    layers = []
    for tail in (0.15, 0.1, 0.05, 0.02):
        scales = np.r_[np.ones(V - 1), np.full(d - V + 1, tail)]
        layers.append(rng.normal(size=(n, d)) * scales)
    erank = np.array([metrics.effective_rank(x) for x in layers])
    pc90 = np.array([float(metrics.pcs_for_variance(metrics.singular_values(x), 0.9)) for x in layers])
    assert np.all(np.diff(erank) < 0)  # the tail collapse lowers the effective rank ...
    profile = np.r_[0.0, pc90][None, :]  # l = 0 (the embedding) is not counted
    np.testing.assert_array_equal(pc90, V - 1)  # ... while the bulk stays at the readout's V - 1
    assert statistics.bulk_excess(profile, V)[0] == 0.0
    assert statistics.bulk_excess(profile + 2.0, V)[0] == pytest.approx(2.0)


def test_live_excess_concentration_ignores_dead_layers():
    """A profile uniform over 3 live transitions and dead after them: the plain top-two share is 2/3, far
    above the uniform 2/7 of depth 8, but its excess over the live transitions is 0."""
    dead = np.array([[5.0, 1.0, 1.0, 1.0, 1e-4, 1e-4, 1e-4, 1e-4]])
    assert statistics.live_transitions(dead).sum() == 3
    assert statistics.live_excess_concentration(dead)[0] == pytest.approx(0.0, abs=1e-12)
    concentrated = np.array([[5.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1]])
    expected = 2.0 / 2.5 - 2.0 / 7
    assert statistics.live_excess_concentration(concentrated)[0] == pytest.approx(expected)
    uniform = np.ones((1, 8))
    assert statistics.live_excess_concentration(uniform)[0] == pytest.approx(0.0, abs=1e-12)
    # one or two live transitions hold all the live drift, their uniform value: 0 (a null as dead as the
    # shuffled networks' deep layers is not concentrated); a profile without drift has no share
    two, one = np.array([[5.0, 2.0, 1.0, 0, 0, 0, 0, 0]]), np.array([[5.0, 1.0, 0, 0, 0, 0, 0, 0]])
    assert statistics.live_transitions(two).sum() == 2 and statistics.live_transitions(one).sum() == 1
    np.testing.assert_allclose(statistics.live_excess_concentration(np.r_[two, one]), [0.0, 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="a live transition"):
        statistics.live_excess_concentration(np.array([[5.0, 0, 0, 0, 0, 0, 0, 0]]))


def test_trend_slopes_recover_a_known_slope_per_seed():
    x = np.log([1.0, 3.0, 7.0])
    values = np.stack([0.3 * x + 1.0, -0.1 * x + 2.0])
    np.testing.assert_allclose(statistics.trend_slopes(values, x), [0.3, -0.1])
    with pytest.raises(ValueError, match="constant"):
        statistics.trend_slopes(values, np.ones(3))


def test_probe_seeds_differ_between_seeds_and_are_deterministic():
    seeds = [statistics.probe_seed(10_001, s) for s in range(10)]
    assert len(set(seeds)) == 10
    assert seeds == [statistics.probe_seed(10_001, s) for s in range(10)]


@pytest.mark.parametrize("bad", [np.zeros((2, 2)), np.array([[1.0, np.nan, 2.0]]), np.ones(5)])
def test_statistics_refuse_malformed_profiles(bad):
    with pytest.raises(ValueError, match="profiles"):
        statistics.violation_mass(bad)


def test_protocol_v3_is_registered_before_its_run():
    """Every v3 spec's hash is the registered one; the rows that replace v2 rows, and the one changed after its
    result, are post hoc."""
    events = claims_registry.load_history()
    for spec in registry.PROTOCOL_V3 + registry.ROBUSTNESS_V3:
        assert claims_registry.registered_hash(spec.id, events) == spec.spec_hash(), spec.id
        changed_after_result = spec.id == "ours-bulk-tracks-vocab"  # re-declared per V after its first result
        assert claims_registry.post_hoc(spec, events)[0] == (bool(spec.replaces) or changed_after_result), spec.id
