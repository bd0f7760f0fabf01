"""On-disk results store keyed by a hash of the full configuration.

An entry is a directory ``<cache>/<key>/`` holding ``meta.json`` (config, seeds, versions, device,
wall time: anything JSON), one ``.npy`` file per array, and ``manifest.json`` (file names, sizes
and SHA-256 checksums), written last. Entries are written to a temporary directory beside the
final one and renamed into place, so a reader never sees a half-written entry; a partial or
corrupted entry (missing manifest, missing file, wrong size or checksum) is reported as a miss and
removed, so the caller recomputes it.

Cache directory: ``RGNB_CACHE`` if set, else ``<repo>/.rgnb-cache``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rgnb.provenance import REPO_ROOT

MANIFEST = "manifest.json"
META = "meta.json"
FORMAT_VERSION = 1


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache directory: ``cache_dir``, else ``$RGNB_CACHE``, else ``<repo>/.rgnb-cache``."""
    path = Path(cache_dir) if cache_dir is not None else Path(os.environ.get("RGNB_CACHE") or REPO_ROOT / ".rgnb-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__name__, **{f.name: _jsonable(getattr(obj, f.name))
                                                    for f in dataclasses.fields(obj)}}
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def canonical_json(obj: Any) -> str:
    """Deterministic JSON of a config (dataclasses, tuples, numpy scalars included)."""
    return json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"))


def config_key(config: Any, **extra: Any) -> str:
    """Hex key (24 chars) of a config plus extra identifying fields (code version, device type)."""
    payload = canonical_json({"config": config, "extra": extra, "format": FORMAT_VERSION})
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_name(name: str) -> None:
    if not name or name in (MANIFEST, META) or name.startswith(".") or "\\" in name or ".." in name.split("/"):
        raise ValueError(f"array name must be a plain relative name, got {name!r}")


def store(key: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any],
          cache_dir: str | os.PathLike | None = None) -> Path:
    """Write an entry atomically and return its directory.

    ``arrays``: name -> array (a name may contain ``/`` for sub-folders); saved as ``<name>.npy``.
    ``meta``: JSON-serialisable record (config, versions, device, wall time, ...).
    """
    root = cache_root(cache_dir)
    final = root / key
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=root))
    try:
        files = {}
        for name, arr in arrays.items():
            _check_name(name)
            path = tmp / f"{name}.npy"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, np.ascontiguousarray(arr), allow_pickle=False)
            files[f"{name}.npy"] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        (tmp / META).write_text(json.dumps(_jsonable(dict(meta)), indent=2, sort_keys=True) + "\n")
        files[META] = {"bytes": (tmp / META).stat().st_size, "sha256": _sha256(tmp / META)}
        (tmp / MANIFEST).write_text(json.dumps({"key": key, "format": FORMAT_VERSION, "files": files},
                                               indent=2, sort_keys=True) + "\n")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def verify(key: str, cache_dir: str | os.PathLike | None = None) -> tuple[bool, str]:
    """Whether the entry ``key`` is complete and intact: ``(ok, reason)``."""
    entry = cache_root(cache_dir) / key
    if not entry.is_dir():
        return False, "missing"
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
    except (OSError, ValueError):
        return False, "no readable manifest (partial entry)"
    if manifest.get("key") != key or manifest.get("format") != FORMAT_VERSION:
        return False, "manifest names another key or format"
    for name, info in manifest.get("files", {}).items():
        path = entry / name
        if not path.is_file():
            return False, f"file {name} missing"
        if path.stat().st_size != info["bytes"]:
            return False, f"file {name} has the wrong size"
        if _sha256(path) != info["sha256"]:
            return False, f"file {name} fails its checksum"
    return True, "ok"


@dataclasses.dataclass(frozen=True)
class Entry:
    """A verified cache entry: its directory, metadata and lazily loaded arrays."""

    path: Path
    meta: dict

    def names(self) -> list[str]:
        """Array names stored in the entry."""
        manifest = json.loads((self.path / MANIFEST).read_text())
        return sorted(n[:-4] for n in manifest["files"] if n.endswith(".npy"))

    def array(self, name: str, mmap: bool = False) -> np.ndarray:
        """Load one array (``mmap=True`` maps it read-only instead of reading it)."""
        _check_name(name)
        return np.load(self.path / f"{name}.npy", mmap_mode="r" if mmap else None, allow_pickle=False)


def load(key: str, cache_dir: str | os.PathLike | None = None, remove_bad: bool = True) -> Entry | None:
    """The verified entry for ``key``, or ``None`` on a miss; a bad entry is removed (if asked)."""
    ok, reason = verify(key, cache_dir)
    entry = cache_root(cache_dir) / key
    if not ok:
        if remove_bad and entry.exists():
            shutil.rmtree(entry, ignore_errors=True)
        return None
    return Entry(entry, json.loads((entry / META).read_text()))
