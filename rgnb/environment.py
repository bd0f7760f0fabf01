"""The ``RGNB_*`` environment variables, read in one place into one frozen :class:`Settings`.

Entry points (``python -m rgnb``, a chapter's :func:`rgnb.provenance.start_chapter`, ``book/conftest.py``)
call :func:`read` once, which validates every variable before anything runs and raises
:class:`SettingError` (a ``ValueError``) naming the variable and its allowed values; the settings
are then passed down. A function called without settings reads them itself (library use, tests).
No other module reads an ``RGNB_*`` variable.

========================  =====================================================================
variable                  meaning (allowed values)
========================  =====================================================================
``RGNB_PROFILE``          overrides every notebook's profile: smoke, reference, full, auto
``RGNB_DEVICE``           overrides every notebook's device: auto, cpu, cuda, cuda:N
``RGNB_RUN_DIR``          where a chapter records provenance and claims (a directory path)
``RGNB_CACHE``            the cache of trained networks (a directory path; default ``.rgnb-cache``)
``RGNB_CHROMIUM``         the Chromium/Chrome executable of the browser check (an existing file)
``RGNB_THREADS``          torch CPU threads for training (an integer >= 1; default: the free cores)
``RGNB_NBVAL_RUN_DIR``    the run directory ``book/conftest.py`` made for an nbval session (a path)
========================  =====================================================================
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping

PROFILES = ("smoke", "reference", "full", "auto")
DEVICES = ("auto", "cpu", "cuda")

#: Every variable rgnb reads, with its allowed values (shown in errors and in the README).
VARIABLES = {
    "RGNB_PROFILE": f"one of {PROFILES}",
    "RGNB_DEVICE": f"one of {DEVICES} or 'cuda:N'",
    "RGNB_RUN_DIR": "a directory path (not an existing file)",
    "RGNB_CACHE": "a directory path (not an existing file)",
    "RGNB_CHROMIUM": "the path of an existing Chromium/Chrome executable",
    "RGNB_THREADS": "an integer >= 1",
    "RGNB_NBVAL_RUN_DIR": "a directory path (not an existing file)",
}


class SettingError(ValueError):
    """An ``RGNB_*`` variable with a value outside its allowed ones."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated ``RGNB_*`` variables (None where unset or empty)."""

    profile: str | None = None
    device: str | None = None
    run_dir: Path | None = None
    cache: Path | None = None
    chromium: Path | None = None
    threads: int | None = None
    nbval_run_dir: Path | None = None


def _refuse(var: str, value: str) -> SettingError:
    return SettingError(f"{var} must be {VARIABLES[var]}, got {value!r}")


def _device(value: str) -> str:
    kind, sep, index = value.partition(":")
    if kind not in DEVICES or (sep and not (kind == "cuda" and index.isdigit())):
        raise _refuse("RGNB_DEVICE", value)
    return value


def _directory(var: str, value: str) -> Path:
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise _refuse(var, value)
    return path


def _threads(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise _refuse("RGNB_THREADS", value)
    return n


def _chromium(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise _refuse("RGNB_CHROMIUM", value)
    return path


def read(environ: Mapping[str, str] | None = None) -> Settings:
    """The validated settings from ``environ`` (default: the process environment); SettingError if one is bad."""
    env = os.environ if environ is None else environ
    raw = {var: (env.get(var) or "").strip() for var in VARIABLES}
    if raw["RGNB_PROFILE"] and raw["RGNB_PROFILE"] not in PROFILES:
        raise _refuse("RGNB_PROFILE", raw["RGNB_PROFILE"])
    return Settings(
        profile=raw["RGNB_PROFILE"] or None,
        device=_device(raw["RGNB_DEVICE"]) if raw["RGNB_DEVICE"] else None,
        run_dir=_directory("RGNB_RUN_DIR", raw["RGNB_RUN_DIR"]) if raw["RGNB_RUN_DIR"] else None,
        cache=_directory("RGNB_CACHE", raw["RGNB_CACHE"]) if raw["RGNB_CACHE"] else None,
        chromium=_chromium(raw["RGNB_CHROMIUM"]) if raw["RGNB_CHROMIUM"] else None,
        threads=_threads(raw["RGNB_THREADS"]) if raw["RGNB_THREADS"] else None,
        nbval_run_dir=(_directory("RGNB_NBVAL_RUN_DIR", raw["RGNB_NBVAL_RUN_DIR"])
                       if raw["RGNB_NBVAL_RUN_DIR"] else None),
    )


def settings_or_read(settings: Settings | None) -> Settings:
    """``settings`` if given (passed down from an entry point), else :func:`read` (library use)."""
    return read() if settings is None else settings


__all__ = ["DEVICES", "PROFILES", "SettingError", "Settings", "VARIABLES", "read", "settings_or_read"]
