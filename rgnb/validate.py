"""The one input-validation helper of ``rgnb``: every public function checks its arguments here.

Each check raises ``ValueError`` naming the parameter, the allowed range and the value received,
and returns the value converted to a plain Python (or numpy float64) type, so a call reads
``width = check_int("width", width, 1, 4096)``. Upper bounds on sizes exist to refuse requests that
would exhaust memory; :func:`check_size` states how much a request would take.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["check_int", "check_float", "check_choice", "check_seed", "check_finite_array",
           "check_size", "MAX_SEED", "MAX_BYTES"]

#: Largest seed accepted anywhere (numpy and torch generators take 64-bit seeds; we keep 2^63 - 1).
MAX_SEED = 2**63 - 1
#: Largest single array a request may allocate (bytes); above this a call is refused.
MAX_BYTES = 8 * 2**30


def _fmt(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (either bound may be None); bools are refused."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if ok:
        value = int(value)
        ok = (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def check_float(name: str, value: Any, low: float = -math.inf, high: float = math.inf,
                low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` in the interval from ``low`` to ``high`` (open ends on request)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok:
        value = float(value)
        ok = math.isfinite(value)
        ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"{name} must be a finite number in {'(' if low_open else '['}{_fmt(low)}, "
                         f"{_fmt(high)}{')' if high_open else ']'}, got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_seed(name: str, value: Any) -> int:
    """A seed: an integer in ``[0, 2**63 - 1]`` (the same range everywhere in rgnb)."""
    return check_int(name, value, 0, MAX_SEED)


def check_finite_array(name: str, value: Any, ndim: int | Sequence[int] | None = None,
                       low: float = -math.inf, high: float = math.inf) -> np.ndarray:
    """``value`` as a float64 array with every entry finite and in ``[low, high]`` (and ``ndim`` if given)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers, got {value!r}") from exc
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            raise ValueError(f"{name} must have {' or '.join(map(str, dims))} dimension(s), got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf), got {value!r}")
    if arr.size and (arr.min() < low or arr.max() > high):
        raise ValueError(f"{name} must lie in [{_fmt(low)}, {_fmt(high)}], got values in "
                         f"[{arr.min():g}, {arr.max():g}]")
    return arr


def check_size(name: str, n_elements: int, bytes_per_element: int = 8, limit: int = MAX_BYTES) -> int:
    """Refuse a request whose array would take more than ``limit`` bytes, saying how much it would take."""
    need = int(n_elements) * int(bytes_per_element)
    if need > limit:
        raise ValueError(f"{name} asks for an array of {need / 2**30:.1f} GiB, above the limit of "
                         f"{limit / 2**30:.1f} GiB; choose a smaller {name}")
    return need
