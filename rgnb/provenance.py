"""Provenance: what a result was computed with, and the banner at the top of every chapter."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rgnb.environment import Settings, settings_or_read
from rgnb.layout import REPO_ROOT
from rgnb.profiles import resolve_device, resolve_profile
from rgnb.validate import check_seed



def git_revision(root: Path = REPO_ROOT) -> str:
    """Short git revision of the checkout (``+dirty`` if it has uncommitted changes), or ``unknown``."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "rgnb"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo``), or None where it cannot be read."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def device_name(device: torch.device) -> str:
    """Human-readable name of a device (the GPU model on CUDA)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def environment(device: torch.device | None = None) -> dict[str, Any]:
    """Versions, device and revision: the record stored next to every result."""
    device = device if device is not None else resolve_device("auto")
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "device": str(device),
        "device_name": device_name(device),
        "torch_threads": torch.get_num_threads(),
        "git_revision": git_revision(),
        "platform": platform.platform(),
        "timestamp_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }


def run_dir(settings: Settings | None = None) -> Path:
    """Where chapters record their run metadata and claims (``RGNB_RUN_DIR``, default ``book/_run``)."""
    path = settings_or_read(settings).run_dir or REPO_ROOT / "book" / "_run"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclasses.dataclass
class ChapterRun:
    """The resolved settings of one chapter execution."""

    chapter: str
    profile: str
    device: torch.device
    seed: int
    env: dict[str, Any]
    started: float = dataclasses.field(default_factory=time.perf_counter)
    #: The RGNB_* settings read at the chapter's start (None: read them where needed).
    settings: Settings | None = None

    def banner(self) -> str:
        """One Markdown line: profile, device, versions, revision and time of execution."""
        e = self.env
        return (f"**Executed** {e['timestamp_utc']} UTC with profile `{self.profile}` on "
                f"`{e['device_name']}` · seed {self.seed} · torch {e['torch']} · numpy {e['numpy']} · "
                f"Python {e['python']} · rgnb revision `{e['git_revision']}`")

    def elapsed(self) -> float:
        """Seconds since the chapter started."""
        return time.perf_counter() - self.started

    def stream_seed(self, stream: str) -> int:
        """Seed of the named random stream of this chapter: a function of (chapter seed, stream) only."""
        return stream_seed(self.seed, stream)

    def numpy_rng(self, stream: str) -> np.random.Generator:
        """A numpy Generator for the named stream (pass it down; never use global random state)."""
        return np.random.default_rng(self.stream_seed(stream))

    def torch_generator(self, stream: str, device: torch.device | str | None = None) -> torch.Generator:
        """A torch Generator on ``device`` (default: the chapter's) for the named stream."""
        return torch.Generator(device=device if device is not None else self.device).manual_seed(self.stream_seed(stream))

    def _repr_markdown_(self) -> str:
        return self.banner()


def stream_seed(seed: int, stream: str) -> int:
    """A 63-bit seed derived from a chapter seed and a stream name (SHA-256; no hash(), pid or time)."""
    check_seed("seed", seed)
    if not isinstance(stream, str) or not stream:
        raise ValueError(f"stream must be a non-empty string, got {stream!r}")
    return int(hashlib.sha256(f"{seed}|{stream}".encode()).hexdigest()[:15], 16)


def start_chapter(chapter: str, profile: str = "auto", device: str = "auto", seed: int = 0,
                  settings: Settings | None = None) -> ChapterRun:
    """Resolve a chapter's parameters (env overrides included), record and return them.

    The kernel's entry point: the ``RGNB_*`` variables are read here once (unless ``settings`` are
    given) and kept on the returned run (``run.settings``).

    No global random state is seeded: every draw takes a generator from ``run.numpy_rng(stream)``
    or ``run.torch_generator(stream)`` (or a seed derived from ``run.seed``), passed down
    explicitly. Display the returned object (last expression of the cell) to show the banner.
    """
    seed = check_seed("seed", seed)
    settings = settings_or_read(settings)
    resolved_device = resolve_device(device, settings)
    run = ChapterRun(chapter=chapter, profile=resolve_profile(profile, settings), device=resolved_device,
                     seed=seed, env=environment(resolved_device), settings=settings)
    record = {"chapter": chapter, "profile": run.profile, "seed": seed, **run.env}
    (run_dir(settings) / f"{chapter}.provenance.json").write_text(json.dumps(record, indent=2) + "\n")
    return run


def is_interactive() -> bool:
    """True when stderr is a terminal (used to keep progress bars out of logs)."""
    return sys.stderr.isatty()


def provenance_table() -> str:
    """Markdown table of every chapter's recorded provenance (run directory)."""
    rows = [json.loads(p.read_text()) for p in sorted(run_dir().glob("*.provenance.json"))]
    cols = ["chapter", "profile", "device_name", "torch", "numpy", "python", "git_revision", "timestamp_utc"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def run_report_markdown() -> str:
    """The last execution's run report (Markdown table), or a note that there is none."""
    path = run_dir() / "report.md"
    return path.read_text() if path.exists() else "*No run report yet: run `python -m rgnb execute`.*"
