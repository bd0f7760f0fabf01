"""Shipped P1 measurements (protocol v3): the paired measurements of the shipped networks, stored beside
their weights.

A reference run reads them instead of measuring every network again (so its claims ledger is the same
on every machine, whatever the machine's BLAS does to the last bits of a float32 forward pass) and
re-measures one seed of every configuration to check them (:func:`check_measurements`). Files:
``p1-measurements.npz`` (arrays ``<key>/<arm>/<quantity>``, each (n_xis, n_seeds, K)) and
``p1-measurements.json`` (per key: family, shape, xis, seeds; the npz's SHA-256), in the profile's
shipped directory. An entry is keyed by the SHA-256s of the two weight files it measures (the chain
sweep's and the shuffled-chain sweep's): by content, not by code, so a refactor of the measuring code
keeps it valid as long as the re-measured seed agrees.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from rgnb import cache as _cache
from rgnb.mlp import paired as _paired
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train
from rgnb.mlp.shipped import SHIPPED_DIR, SHIPPED_PROFILES, StaleShippedResults
from rgnb.profiles import resolve_profile

MEASUREMENTS_NPZ, MEASUREMENTS_JSON = "p1-measurements.npz", "p1-measurements.json"
#: Agreement a re-measured seed must reach with the stored values: the streams are float32, so another
#: machine's BLAS moves a measure in about its sixth digit.
RTOL, ATOL = 1e-4, 1e-6
#: The PCs for 90 % are integer counts per position, averaged over positions: a count at the 90 % edge may
#: flip, so these may differ by one position's count, 1 / (number of positions).
COUNT_QUANTITIES = ("pc90_ln", "pc90_raw")


def pair_key(chain: _train.SweepResult, shuffled: _train.SweepResult) -> str | None:
    """The key of a (chain, shuffled) pair of shipped sweeps (their files' SHA-256s), or None if either is not
    shipped (trained here: its measurements are never shipped)."""
    a, b = chain.entry.meta.get("sha256"), shuffled.entry.meta.get("sha256")
    return f"{a[:20]}-{b[:20]}" if a and b else None


def export_measurements(pairs: list[tuple[str, _train.SweepResult, _train.SweepResult, _paired.ShapeMeasurements]],
                        directory: str | Path) -> Path:
    """Write the measurements of shipped sweep pairs, ``(family, chain, shuffled, measurements)`` each, to
    ``directory`` (replacing what was there); returns the JSON's path."""
    directory = Path(directory)
    arrays, entries = {}, {}
    for family, chain, shuffled, m in pairs:
        key = pair_key(chain, shuffled)
        if key is None:
            raise ValueError(f"the {family!r} pair is not shipped (load it with rgnb.mlp.shipped): only the "
                             "measurements of shipped weights can be shipped")
        entries[key] = {"family": family, "shape": [m.shape.depth, m.shape.vocab_size], "xis": list(m.xis),
                        "seeds": list(m.seeds), "chain_sha256": chain.entry.meta["sha256"],
                        "shuffled_sha256": shuffled.entry.meta["sha256"]}
        for arm, qs in m.values.items():
            for q, v in qs.items():
                arrays[f"{key}/{arm}/{q}"] = np.asarray(v, dtype=np.float64)
    npz = directory / MEASUREMENTS_NPZ
    with open(npz, "wb") as f:
        np.savez_compressed(f, **arrays)
    record = {"file": npz.name, "sha256": _cache._sha256(npz), "entries": entries}
    path = directory / MEASUREMENTS_JSON
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


@dataclasses.dataclass(frozen=True)
class MeasurementStore:
    """A directory's shipped measurements, read and checked against their SHA-256 once: per pair key, the
    entry (family, shape, xis, seeds) and its arrays."""

    directory: Path
    sha256: str
    entries: dict
    arrays: dict[str, np.ndarray]

    @classmethod
    def open(cls, directory: str | Path) -> "MeasurementStore | None":
        """The store of ``directory``, or None if it ships no measurements; refuses a file that fails its hash."""
        directory = Path(directory)
        path = directory / MEASUREMENTS_JSON
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        npz = directory / record["file"]
        if not npz.is_file() or _cache._sha256(npz) != record["sha256"]:
            raise StaleShippedResults(f"{npz} is missing or fails its SHA-256 {record['sha256'][:16]}...; restore it "
                                      "from git or measure again with:\n  python -m rgnb.mlp --profile reference "
                                      f"--measure --ship {directory}")
        with np.load(npz, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
        return cls(directory, record["sha256"], record["entries"], arrays)

    def lookup(self, chain: _train.SweepResult, shuffled: _train.SweepResult) -> _paired.ShapeMeasurements | None:
        """The shipped measurements of the pair, or None if the pair or its entry is not shipped."""
        key = pair_key(chain, shuffled)
        entry = None if key is None else self.entries.get(key)
        if entry is None:
            return None
        values = {arm: {q: self.arrays[f"{key}/{arm}/{q}"] for q in _paired.QUANTITIES} for arm in _paired.ARMS}
        return _paired.ShapeMeasurements(_sweeps.ScanShape(*entry["shape"]), tuple(float(x) for x in entry["xis"]),
                                         tuple(int(s) for s in entry["seeds"]), values)


def load_measurements(chain: _train.SweepResult, shuffled: _train.SweepResult,
                      directory: str | Path) -> _paired.ShapeMeasurements | None:
    """The shipped measurements of the pair in ``directory``, or None if the pair or its entry is not shipped."""
    store = MeasurementStore.open(directory)
    return None if store is None else store.lookup(chain, shuffled)


def check_measurements(stored: _paired.ShapeMeasurements, fresh: _paired.ShapeMeasurements, positions: int) -> None:
    """Refuse (:class:`StaleShippedResults`) stored measurements that a fresh measurement of some of their seeds
    does not reproduce (:data:`RTOL`, :data:`ATOL`; the counts of :data:`COUNT_QUANTITIES` within one of
    ``positions`` positions)."""
    if fresh.xis != stored.xis or not set(fresh.seeds) <= set(stored.seeds):
        raise StaleShippedResults(f"the fresh measurement (xis {fresh.xis}, seeds {fresh.seeds}) does not match the "
                                  f"stored one (xis {stored.xis}, seeds {stored.seeds})")
    cols = [stored.seeds.index(s) for s in fresh.seeds]
    for arm in _paired.ARMS:
        for q in _paired.QUANTITIES:
            got, want = fresh.values[arm][q], stored.values[arm][q][:, cols]
            if got.shape != want.shape:
                raise StaleShippedResults(f"{arm}/{q}: fresh shape {got.shape}, stored {want.shape}")
            atol = 1.0 / positions + 1e-9 if q in COUNT_QUANTITIES else ATOL
            bad = np.abs(got - want) > atol + RTOL * np.abs(want)
            if np.any(bad):
                worst = float(np.max(np.abs(got - want)))
                raise StaleShippedResults(
                    f"the shipped measurements of the {stored.shape} pair are not reproduced: {arm}/{q} differs by "
                    f"up to {worst:.3g} at {int(bad.sum())} values. The weights or the measuring code changed the "
                    "numbers: measure again with:\n  python -m rgnb.mlp --profile reference --measure "
                    "--ship results/reference")


def measure_pair(chain: _train.SweepResult, shuffled: _train.SweepResult, store: MeasurementStore | None = None,
                 cache_dir=None) -> _paired.ShapeMeasurements:
    """The pair's measurements: shipped ones (in ``store``, default none) checked by re-measuring their first
    seed (once per machine: the check is cached), else measured here (:func:`rgnb.mlp.paired.measure_shape_cached`)."""
    stored = None if store is None else store.lookup(chain, shuffled)
    if stored is None:
        return _paired.measure_shape_cached(chain, shuffled, cache_dir)
    key = _cache.config_key({"checked": pair_key(chain, shuffled), "file": store.sha256},
                            kind="p1-v3-shipped-check", source=_paired.measurement_key(chain, shuffled))
    if _cache.load(key, cache_dir) is None:
        fresh = _paired.measure_shape(chain, shuffled, seeds=stored.seeds[:1])
        check_measurements(stored, fresh, positions=chain.config.seq_len)
        _cache.store(key, {"checked_seeds": np.asarray(fresh.seeds)}, {"pair": pair_key(chain, shuffled)}, cache_dir)
    return stored


def default_directory(profile: str) -> Path | None:
    """Where a profile's shipped measurements live (None for a profile that ships none)."""
    resolved = resolve_profile(profile)
    return SHIPPED_DIR / resolved if resolved in SHIPPED_PROFILES else None


__all__ = ["MEASUREMENTS_NPZ", "MEASUREMENTS_JSON", "MeasurementStore", "pair_key", "export_measurements",
           "load_measurements",
           "check_measurements", "measure_pair", "default_directory"]
