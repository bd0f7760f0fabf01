"""Golden arrays: the numerics contract's evidence that training still computes what it computed.

Every shipped sweep family of the ``reference`` profile has a *golden sweep*: the same config
(chain family, masking, architecture, optimiser, schedule shape, seeds' derivation) shrunk to a
few networks and steps (:func:`golden_config`). Its trained weights, per-step losses, held-out
losses and Bayes floors are stored in ``tests/golden/`` (a few KB) with the
:data:`rgnb.mlp.train.NUMERICS_VERSION` that produced them. A unit test retrains every golden sweep on
the pinned torch (CPU, one thread) and compares every array exactly (:func:`compare`): a one-ulp
change to the step fails it, a docstring edit cannot. When a change is meant to alter the numbers,
bump ``NUMERICS_VERSION`` and run ``tools/regenerate_golden.py`` (which refuses otherwise); shipped
weights of another version are then refused at load (``rgnb.mlp.shipped.load_shipped``) until retrained.

Bits are a property of the code *and of the machine kind*: torch dispatches to different vector
kernels by CPU (vendor, model, instruction set), and AdamW carries round-off into directions a
LayerNorm makes flat. The top-level arrays belong to the machine kind the manifest records
(``machine``; absent for the first set); further kinds are added under ``machines/<slug>/`` by
``tools/regenerate_golden.py --add-machine`` (same numerics version, refused unless every loss agrees
with the first set to :data:`LOSS_TOLERANCE`). On a kind without arrays only the loss agreement
is checked.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import re
from pathlib import Path

import numpy as np
import torch

from rgnb import cache
from rgnb.mlp import sweeps, train
from rgnb.provenance import REPO_ROOT, cpu_model
from rgnb.validate import check_choice

GOLDEN_DIR = REPO_ROOT / "tests" / "golden"
MANIFEST = "manifest.json"
#: The arrays of a trained sweep the golden files keep (the weights are added per depth).
KEPT = ("loss_per_step", "final_loss", "bayes_floor")
#: The profile whose sweeps are shipped and whose code paths the golden sweeps cover.
PROFILE = "reference"
#: Largest difference of any per-step or held-out loss (nats) between two machine kinds' golden arrays.
LOSS_TOLERANCE = 1e-5
LOSSES = ("loss_per_step", "final_loss")
UNRECORDED = "unrecorded (the first set's machine kind was not written down)"


def machine_kind() -> str:
    """What decides the CPU's bits: architecture, CPU model and torch's CPU capability, e.g.
    ``x86_64 | AMD EPYC | AVX512``."""
    cpu = cpu_model() or platform.processor() or "unknown cpu"
    return f"{platform.machine()} | {cpu} | {torch.backends.cpu.get_cpu_capability()}"


def _slug(kind: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", kind).strip("-").lower()


def kinds(directory: str | Path = GOLDEN_DIR) -> dict[str, Path]:
    """Machine kinds with stored golden arrays -> their directory (the first set under its recorded kind)."""
    m = manifest(directory)
    out = {m.get("machine", UNRECORDED): Path(directory)}
    out.update({k: Path(directory) / "machines" / slug for k, slug in m.get("machines", {}).items()})
    return out


def loss_differences(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray],
                     tol: float = LOSS_TOLERANCE) -> list[str]:
    """Losses (per step and held out) that differ by more than ``tol`` nats, one line per array."""
    lines = []
    for name in LOSSES:
        d = float(np.max(np.abs(np.asarray(expected[name], np.float64) - np.asarray(actual[name], np.float64))))
        if not d <= tol:
            lines.append(f"{name}: differs by up to {d:.3g} nats (allowed {tol:g})")
    return lines


def families() -> tuple[str, ...]:
    """The shipped families, one golden sweep each."""
    return tuple(sorted(sweeps.sweeps_for(PROFILE)))


def golden_config(family: str) -> sweeps.SweepConfig:
    """The shipped ``family``'s config shrunk to 2 chains x 2 seeds, depth 2, width 8, T = 8, 20 steps.

    Only sizes change: chain kind, masking, architecture, learning rate, betas, weight decay and the
    warm-up-then-cosine schedule (warm-up at the shipped fraction of the steps) are the shipped ones.
    """
    shipped = sweeps.sweeps_for(PROFILE)[check_choice("family", family, families())]
    steps = 20
    return dataclasses.replace(shipped, xis=shipped.xis[:2], seeds=(0, 1), depths=(2,), width=8, seq_len=8,
                               steps=steps, warmup=max(1, shipped.warmup * steps // shipped.steps),
                               batch_size=8, data_chunk=5, log_every=10, n_probe=4, n_eval=16)


def train_golden(family: str) -> dict[str, np.ndarray]:
    """Train ``family``'s golden sweep on the CPU with one torch thread: name -> array."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        arrays, _ = train.train_sweep(golden_config(family), torch.device("cpu"), progress=False)
    finally:
        torch.set_num_threads(threads)
    return {k: v for k, v in arrays.items() if k in KEPT or k.startswith("weights/")}


def write(directory: str | Path = GOLDEN_DIR) -> Path:
    """Train every golden sweep and write ``<family>.npz`` and the manifest to ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for family in families():
        with open(directory / f"{family}.npz", "wb") as f:
            np.savez_compressed(f, **train_golden(family))
    manifest = {"numerics_version": train.NUMERICS_VERSION, "torch": torch.__version__, "device": "cpu",
                "machine": machine_kind(),
                "torch_threads": 1, "families": list(families()),
                "configs": {f: json.loads(cache.canonical_json(golden_config(f))) for f in families()}}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return directory


def add_machine(directory: str | Path = GOLDEN_DIR) -> Path:
    """Store this machine kind's golden arrays beside the first set (same numerics version; every loss within
    :data:`LOSS_TOLERANCE` of the first set, else ValueError)."""
    directory = Path(directory)
    m = manifest(directory)
    if m["numerics_version"] != train.NUMERICS_VERSION:
        raise ValueError(f"the stored arrays are numerics version {m['numerics_version']}, the code's is "
                         f"{train.NUMERICS_VERSION}: regenerate them instead")
    kind = machine_kind()
    if kind in kinds(directory):
        raise ValueError(f"machine kind {kind!r} already has golden arrays")
    arrays = {f: train_golden(f) for f in families()}
    bad = {f: loss_differences(stored(f, directory), a) for f, a in arrays.items()}
    bad = {f: v for f, v in bad.items() if v}
    if bad:
        raise ValueError(f"this machine's losses differ from the stored ones beyond round-off: {bad}")
    target = directory / "machines" / _slug(kind)
    target.mkdir(parents=True, exist_ok=True)
    for f, a in arrays.items():
        with open(target / f"{f}.npz", "wb") as fh:
            np.savez_compressed(fh, **a)
    m.setdefault("machines", {})[kind] = _slug(kind)
    (directory / MANIFEST).write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
    return target


def manifest(directory: str | Path = GOLDEN_DIR) -> dict:
    """The golden manifest (numerics version, torch version, families, configs)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no golden arrays at {path}; write them with tools/regenerate_golden.py")
    return json.loads(path.read_text())


def stored(family: str, directory: str | Path = GOLDEN_DIR) -> dict[str, np.ndarray]:
    """The stored golden arrays of ``family``."""
    with np.load(Path(directory) / f"{family}.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def compare(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]) -> list[str]:
    """What differs between two sets of golden arrays, one line per array (empty: identical bits).

    Each line names the array and its largest difference in units in the last place of ``expected``.
    """
    lines = []
    for name in sorted(set(expected) | set(actual)):
        if name not in expected or name not in actual:
            lines.append(f"{name}: only in {'actual' if name in actual else 'expected'}")
            continue
        a, b = np.asarray(expected[name]), np.asarray(actual[name])
        if a.shape != b.shape or a.dtype != b.dtype:
            lines.append(f"{name}: {a.dtype}{list(a.shape)} expected, {b.dtype}{list(b.shape)} computed")
        elif not np.array_equal(a, b, equal_nan=True):
            ulps = np.abs(a.astype(np.float64) - b) / np.spacing(np.abs(a)).astype(np.float64)
            lines.append(f"{name}: {int(np.sum(a != b))} of {a.size} values differ, up to {np.nanmax(ulps):.3g} ulp")
    return lines
