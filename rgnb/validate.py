"""The one input-validation helper of ``rgnb``: every public function checks its arguments here.

Each check raises ``ValueError`` naming the parameter, the allowed range and the value received,
and returns the value converted to a plain Python (or numpy float64) type, so a call reads
``width = check_int("width", width, 1, 4096)``. A value of the wrong type (a string, None, a complex
array) raises :class:`BadType`, which is both a ``TypeError`` and a ``ValueError``. Upper bounds on
sizes exist to refuse requests that would exhaust memory; :func:`check_size` states how much a
request would take. :func:`check_interval` refuses NaN ends and ``low > high``; :func:`find_nan`
finds a NaN in a JSON-ready record (the ledger writer refuses one).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["BadType", "check_int", "check_float", "check_choice", "check_seed", "check_finite_array",
           "check_size", "check_interval", "check_psd_pairs", "find_nan", "format_bytes", "MAX_SEED", "MAX_BYTES"]

#: Largest seed accepted anywhere (numpy and torch generators take 64-bit seeds; we keep 2^63 - 1).
MAX_SEED = 2**63 - 1
#: Largest single array a request may allocate (bytes); above this a call is refused.
MAX_BYTES = 8 * 2**30


class BadType(TypeError, ValueError):
    """A parameter of the wrong type: a ``TypeError`` that callers catching ``ValueError`` also see."""


def _is_real_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _fmt(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (either bound may be None); bools are refused."""
    lo = "-inf" if low is None else str(low)
    hi = "inf" if high is None else str(high)
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))):
        raise BadType(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    value = int(value)
    if not ((low is None or value >= low) and (high is None or value <= high)):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def check_float(name: str, value: Any, low: float = -math.inf, high: float = math.inf,
                low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """``value`` as a ``float`` in the interval from ``low`` to ``high`` (open ends on request); finite unless
    ``finite=False`` (then +-inf pass, NaN never does)."""
    what = "a finite number" if finite else "a number (not NaN)"
    allowed = f"{what} in {'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
    if not _is_real_scalar(value):
        raise BadType(f"{name} must be {allowed}, got {value!r}")
    value = float(value)
    ok = not math.isnan(value) and (math.isfinite(value) or not finite)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
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
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    raw = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if raw.dtype.kind not in "biuf" and raw.dtype != object:
        kind = "complex" if raw.dtype.kind == "c" else f"dtype {raw.dtype}"
        raise BadType(f"{name} must be an array of real numbers, got {kind} ({_short(value)})")
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadType(f"{name} must be an array of real numbers, got {_short(value)}") from exc
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            raise ValueError(f"{name} must have {' or '.join(map(str, dims))} dimension(s), got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf), got {_short(value)}")
    if arr.size and (arr.min() < low or arr.max() > high):
        raise ValueError(f"{name} must lie in [{_fmt(low)}, {_fmt(high)}], got values in "
                         f"[{arr.min():g}, {arr.max():g}]")
    return arr


def _short(value: Any, width: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width] + "..."


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit below it, e.g. ``7.28 TiB``."""
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def check_size(name: str, n_elements: int, bytes_per_element: int = 8, limit: int = MAX_BYTES) -> int:
    """Refuse a request whose arrays would take more than ``limit`` bytes, saying how much it would take."""
    need = int(n_elements) * int(bytes_per_element)
    if need > limit:
        raise ValueError(f"{name} asks for an array of {format_bytes(need)}, above the limit of "
                         f"{format_bytes(limit)}; choose a smaller {name}")
    return need


def check_interval(name: str, estimate: Any, low: Any, high: Any) -> tuple[float, float, float]:
    """An interval's ``(estimate, low, high)`` as floats: numbers, none NaN, ``low <= high`` (ends may be infinite)."""
    values = []
    for part, x in (("estimate", estimate), ("low", low), ("high", high)):
        if not _is_real_scalar(x):
            raise BadType(f"{name}.{part} must be a number, got {x!r}")
        if math.isnan(float(x)):
            raise ValueError(f"{name}.{part} must not be NaN, got ({estimate!r}, {low!r}, {high!r})")
        values.append(float(x))
    if values[1] > values[2]:
        raise ValueError(f"{name} must have low <= high, got low {values[1]!r} > high {values[2]!r}")
    return values[0], values[1], values[2]


def check_psd_pairs(name: str, K: Any, rtol: float = 1e-6) -> np.ndarray:
    """A finite (..., k, k) symmetric kernel whose every 2 x 2 principal minor is PSD (what a Gaussian
    expectation over pairs of units needs): ``K_aa >= 0`` and ``K_ab^2 <= K_aa K_bb`` (relative ``rtol``)."""
    K = check_finite_array(name, K)
    if K.ndim < 2 or K.shape[-1] != K.shape[-2] or K.shape[-1] < 1:
        raise ValueError(f"{name} must have shape (..., k, k) with k >= 1, got shape {K.shape}")
    scale = max(float(np.abs(K).max()) if K.size else 0.0, 1e-300)
    if not np.allclose(K, np.swapaxes(K, -1, -2), rtol=rtol, atol=rtol * scale):
        raise ValueError(f"{name} must be symmetric")
    d = np.diagonal(K, axis1=-2, axis2=-1)
    if np.any(d < -rtol * scale):
        raise ValueError(f"{name} must be positive semi-definite: a diagonal entry is {d.min():.3g} < 0")
    excess = K ** 2 - d[..., :, None] * d[..., None, :]
    if np.any(excess > rtol * scale ** 2):
        raise ValueError(f"{name} must be positive semi-definite: some K_ab^2 exceeds K_aa K_bb "
                         f"(by up to {excess.max():.3g})")
    return K


def find_nan(record: Any, path: str = "") -> str | None:
    """The path (``rows[3].effects.x.low``) of the first NaN in a JSON-ready record, or None."""
    if isinstance(record, float) and math.isnan(record):
        return path or "(the value)"
    if isinstance(record, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in record.items())
    elif isinstance(record, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(record))
    else:
        return None
    for sub, value in items:
        found = find_nan(value, sub)
        if found:
            return found
    return None
