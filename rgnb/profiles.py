"""Execution profiles and device choice.

A profile names a scale: ``smoke`` (the whole book on a 2-core CPU in minutes, for CI and quick
looks: not a test of the papers), ``reference`` (the stored book: networks at the Bayes floor,
trainable on a CPU, re-executable from shipped results), ``full`` (paper scale, on a GPU) or
``auto`` (``full`` where CUDA is available, else ``reference``).
The sizes behind each profile live beside the concept they size (e.g. ``rgnb.eft.EFTSizes``);
this module only resolves names. ``RGNB_PROFILE`` and ``RGNB_DEVICE`` (read by
:mod:`rgnb.environment`, passed in as ``settings``) override what a notebook's parameters cell
says, so a stored notebook can be validated at smoke scale.
"""

from __future__ import annotations

from typing import Mapping, TypeVar

import torch

from rgnb.environment import DEVICES, PROFILES, Settings, settings_or_read

#: Profiles that name a scale (``auto`` resolves to one of these).
SCALES = ("smoke", "reference", "full")

T = TypeVar("T")


def resolve_profile(profile: str = "auto", settings: Settings | None = None) -> str:
    """Return ``"smoke"``, ``"reference"`` or ``"full"`` for a requested profile; ``RGNB_PROFILE`` wins if set."""
    requested = settings_or_read(settings).profile or profile
    if requested not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {requested!r}")
    if requested == "auto":
        return "full" if torch.cuda.is_available() else "reference"
    return requested


def resolve_device(device: str | torch.device = "auto", settings: Settings | None = None) -> torch.device:
    """Return the torch device to run on; ``RGNB_DEVICE`` wins if set.

    ``auto`` picks CUDA when available, else the CPU. Asking for CUDA where there is none raises.
    """
    requested = settings_or_read(settings).device or device
    if isinstance(requested, torch.device):
        requested = str(requested)
    kind = str(requested).split(":")[0]
    if kind not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES} (optionally 'cuda:N'), got {requested!r}")
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but torch finds no CUDA device; use 'cpu' or 'auto'")
    return torch.device(requested)


def sizes_for(table: Mapping[str, T], profile: str, settings: Settings | None = None) -> T:
    """Pick the sizes for a resolved profile from a ``{"smoke": ..., "reference": ..., "full": ...}`` table."""
    resolved = resolve_profile(profile, settings) if profile == "auto" else profile
    if resolved not in table:
        raise ValueError(f"profile must be one of {tuple(table)}, got {profile!r}")
    return table[resolved]
