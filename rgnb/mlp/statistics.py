"""Per-seed statistics of the P1 findings under protocol v3 (issue 28), on arrays with a known answer.

Pure functions of the measured profiles, registered in :data:`rgnb.mlp.registry.PROTOCOL_V3` before
any v3 measurement: the violation mass of a dimension profile (claim (i): monotone within a
tolerance), the log collapse ratio (claim (ii)), the excess concentration of the drift over the
live transitions (claim (iii) against a null whose layers are dead), a per-seed trend over a grid
(the xi dose-response), and the bulk dimension's excess over the readout's V - 1. Profiles are
indexed l = 0..L (h^0, the embedding, never enters a statistic); drift profiles l = 0..L-1 (the
transition l -> l+1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rgnb.validate import check_float, check_int

#: Registered tolerance of claim (i): a rise of the dimension between consecutive layers smaller than
#: this fraction of the layer-1 dimension is not a violation of "monotone".
MONOTONE_TOLERANCE = 0.01
#: The largest tolerance of claim (i)'s registered sensitivity curve (tolerances 0 to 5 % of erank(1)).
TOLERANCE_CURVE_MAX = 0.05
#: A transition is live when its drift is at least this fraction of the profile's largest drift (l >= 1):
#: the shuffled-chain networks' dead layers (drift ~1e-4 of the largest) fall below it.
LIVE_FRACTION = 0.01


def _profiles(values: Any, name: str, min_len: int) -> np.ndarray:
    p = np.asarray(values, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < min_len:
        raise ValueError(f"{name} must have shape (n, K) with K >= {min_len}, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be finite")
    return p


def violation_mass(profiles: Any, tolerance: float = MONOTONE_TOLERANCE) -> np.ndarray:
    """Total rise of each profile beyond the tolerance, relative to its layer-1 value, (n, L+1) -> (n,).

    ``sum_{l >= 1} max(0, p(l+1) - p(l) - tolerance * p(1)) / p(1)``: 0 for a profile that never rises
    by more than ``tolerance`` of p(1) from one layer to the next (monotone non-increasing within the
    tolerance), and the size of the rises otherwise. Needs p(1) > 0.
    """
    p = _profiles(profiles, "profiles", 3)
    check_float("tolerance", tolerance, 0.0, 1.0)
    first = p[:, 1]
    if np.any(first <= 0):
        raise ValueError("profiles must be positive at l = 1 (a dimension)")
    steps = np.diff(p[:, 1:], axis=1)
    return np.clip(steps - tolerance * first[:, None], 0.0, None).sum(axis=1) / first


def tolerance_curve(profiles: Any, tolerances: Any) -> np.ndarray:
    """:func:`violation_mass` at each tolerance, (n, L+1) x (k,) -> (k, n): the sensitivity of claim (i)."""
    tols = np.asarray(tolerances, dtype=np.float64)
    if tols.ndim != 1 or tols.size == 0:
        raise ValueError(f"tolerances must be a non-empty 1-d array, got shape {tols.shape}")
    return np.stack([violation_mass(profiles, float(t)) for t in tols])


def log_collapse(profiles: Any) -> np.ndarray:
    """log c, c = p(L) / p(1), of each profile, (n, L+1) -> (n,): the collapse along depth on the log scale
    (a ratio's interval stays on its support); negative when the deepest layer keeps fewer dimensions."""
    p = _profiles(profiles, "profiles", 3)
    if np.any(p[:, 1] <= 0) or np.any(p[:, -1] <= 0):
        raise ValueError("profiles must be positive at l = 1 and l = L (a dimension)")
    return np.log(p[:, -1] / p[:, 1])


def live_transitions(drift: Any, live_fraction: float = LIVE_FRACTION) -> np.ndarray:
    """Which transitions l -> l+1 (l >= 1) are live, drift (n, L) -> (n, L-1) bool: drift at least
    ``live_fraction`` of the profile's largest drift over l >= 1."""
    d = _profiles(drift, "drift", 3)[:, 1:]
    check_float("live_fraction", live_fraction, 0.0, 1.0, low_open=True)
    if np.any(d < -1e-9):
        raise ValueError("drift must be nonnegative")
    top = d.max(axis=1, keepdims=True)
    return (d >= live_fraction * top) & (top > 0)


def live_excess_concentration(drift: Any, live_fraction: float = LIVE_FRACTION) -> np.ndarray:
    """Top-two share of the drift over the live transitions (l >= 1) minus its uniform value 2 / n_live,
    drift (n, L) -> (n,); 0 for a uniform profile over its live transitions, whatever their number, so
    dead layers (which inflate the plain top-two share) do not count. With one or two live transitions the
    top two hold all the live drift, which is their uniform value too: 0 (min(2, n_live) / n_live)."""
    d = np.clip(_profiles(drift, "drift", 4)[:, 1:], 0.0, None)
    live = live_transitions(drift, live_fraction)
    n_live = live.sum(axis=1)
    if np.any(n_live < 1):
        raise ValueError("every profile needs a live transition (l >= 1): a profile without drift has no share")
    d = np.where(live, d, 0.0)
    top2 = -np.sort(-d, axis=1)[:, :2].sum(axis=1) / d.sum(axis=1)
    return top2 - np.minimum(2, n_live) / n_live


def trend_slopes(values: Any, x: Any) -> np.ndarray:
    """Per-row least-squares slope of ``values`` (n, k) on ``x`` (k,), -> (n,): the dose-response of one
    seed over a grid (e.g. x = log xi)."""
    v = _profiles(values, "values", 2)
    xs = np.asarray(x, dtype=np.float64)
    if xs.shape != (v.shape[1],) or not np.all(np.isfinite(xs)):
        raise ValueError(f"x must be a finite array of shape ({v.shape[1]},), got shape {xs.shape}")
    xc = xs - xs.mean()
    if not np.any(xc):
        raise ValueError("x must not be constant")
    return (v - v.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)


def bulk_excess(pc_profiles: Any, vocab_size: int) -> np.ndarray:
    """Mean over l >= 1 of the bulk dimension (e.g. PCs for 90 % of the variance) minus the readout's
    V - 1, (n, L+1) -> (n,): 0 when the bulk of the stream has exactly the readout's dimension."""
    p = _profiles(pc_profiles, "pc_profiles", 2)
    V = check_int("vocab_size", vocab_size, 2, 4096)
    return p[:, 1:].mean(axis=1) - (V - 1)


def probe_seed(base: int, seed: int) -> int:
    """The probe-set seed of network seed ``seed`` (protocol v3: each seed its own probe set, shared by the
    nulls it is paired with, so probe sampling is inside the interval over seeds)."""
    check_int("base", base, 0, 2**31 - 1)
    check_int("seed", seed, 0, 10**6)
    return int(np.random.SeedSequence([base, seed]).generate_state(1)[0] % (2**31 - 1))
