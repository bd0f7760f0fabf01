"""On-disk results store keyed by a hash of the full configuration.

An entry is a directory ``<cache>/<key>/`` holding ``meta.json`` (config, seeds, versions, device,
wall time: anything JSON), one ``.npy`` file per array, and ``manifest.json`` (file names, sizes
and SHA-256 checksums), written last. Entries are written to a temporary directory beside the
final one and renamed into place, so a reader never sees a half-written entry; a partial or
corrupted entry (missing manifest, missing file, wrong size or checksum) is reported as a miss and
removed, so the caller recomputes it.

Concurrency: writers of one key serialise the final rename through an ``fcntl.flock`` on
``<cache>/.<key>.lock``; a writer that finds a complete entry already in place discards its own
copy and returns the existing one (it cleanly loses the race). Temporary directories are named
``.<key>.tmp-<pid>-*``; ``store`` sweeps those whose writer is dead or that are older than
``STALE_TEMP_S``, and removes its own on any exception or SIGTERM.

Keys: :func:`config_key` hashes a configuration; :func:`source_hash` hashes the normalised source
of the functions that compute an entry and of the ``rgnb`` code they call, so editing what they
compute changes the key while a docstring or comment edit does not (pass it as an ``extra`` field:
``config_key(config, code=source_hash(measure))``).

Cache directory: ``RGNB_CACHE`` if set, else ``<repo>/.rgnb-cache``.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import fcntl
import hashlib
import inspect
import json
import os
import shutil
import signal
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from rgnb.processes import pid_alive
from rgnb.provenance import REPO_ROOT

MANIFEST = "manifest.json"
META = "meta.json"
FORMAT_VERSION = 1
#: A temporary entry directory older than this (seconds) is abandoned and swept.
STALE_TEMP_S = 60 * 60


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache directory: ``cache_dir``, else ``$RGNB_CACHE`` (:mod:`rgnb.environment`), else ``<repo>/.rgnb-cache``."""
    from rgnb.environment import read

    path = Path(cache_dir) if cache_dir is not None else (read().cache or REPO_ROOT / ".rgnb-cache")
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


#: The package whose functions, classes and constants :func:`source_hash` follows.
_FOLLOWED_PACKAGE = "rgnb"
#: Constant types whose value :func:`source_hash` includes (their canonical JSON).
_CONSTANT_TYPES = (bool, int, float, str, type(None), tuple, frozenset)


def normalized_source(obj: Any) -> str:
    """Source of a function, class or module with docstrings and comments removed (``ast.unparse``).

    Two texts that differ only in docstrings, comments or layout normalise to the same string.
    Raises ``ValueError`` for an object without Python source.
    """
    target = inspect.unwrap(obj) if callable(obj) and not inspect.isclass(obj) else obj
    try:
        source = textwrap.dedent(inspect.getsource(target))
    except (OSError, TypeError) as exc:
        raise ValueError(f"objects must be functions, classes or modules with Python source, got {obj!r}") from exc
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _namespace(obj: Any) -> dict:
    """The global names a function, class or module's source refers to."""
    if inspect.ismodule(obj):
        return vars(obj)
    target = inspect.unwrap(obj) if not inspect.isclass(obj) else obj
    names = dict(getattr(target, "__globals__", None) or vars(inspect.getmodule(target) or object))
    if getattr(target, "__closure__", None):
        names.update({n: c.cell_contents for n, c in zip(target.__code__.co_freevars, target.__closure__)
                      if c.cell_contents is not None})
    return names


def _followed(value: Any) -> bool:
    module = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
    return isinstance(module, str) and (module == _FOLLOWED_PACKAGE or module.startswith(_FOLLOWED_PACKAGE + "."))


def _qualname(obj: Any) -> str:
    if inspect.ismodule(obj):
        return obj.__name__
    return f"{obj.__module__}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def _references(obj: Any) -> tuple[list[Any], dict[str, str]]:
    """What ``obj``'s source names: rgnb functions, classes and modules reached through names and
    attribute chains (``chains.sample_mask``), and module-level constants (name -> canonical JSON)."""
    namespace = _namespace(obj)
    found: list[Any] = []
    constants: dict[str, str] = {}

    def resolve(node: ast.AST) -> tuple[str, Any] | None:
        if isinstance(node, ast.Name):
            return (node.id, namespace[node.id]) if node.id in namespace else None
        if isinstance(node, ast.Attribute):
            base = resolve(node.value)
            if base is not None and (inspect.ismodule(base[1]) or inspect.isclass(base[1])) \
                    and hasattr(base[1], node.attr):
                return f"{base[0]}.{node.attr}", getattr(base[1], node.attr)
        return None

    for node in ast.walk(ast.parse(normalized_source(obj))):
        if not isinstance(node, (ast.Name, ast.Attribute)):
            continue
        hit = resolve(node)
        if hit is None:
            continue
        name, value = hit
        if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismethod(value):
            if _followed(value):
                found.append(value)
        elif isinstance(value, _CONSTANT_TYPES) or dataclasses.is_dataclass(value):
            if isinstance(node, ast.Attribute) and not _followed(resolve(node.value)[1]):
                continue  # a constant of another package (math.pi, torch.float32): not ours to follow
            try:
                constants[f"{_qualname(obj)}:{name}"] = canonical_json(value)
            except TypeError:
                pass  # a tuple of objects JSON cannot state: its members are followed where they are ours
    return found, constants


def source_hash(*objects: Any) -> str:
    """SHA-256 (hex) of the normalised source of functions, classes or modules and of everything of
    ``rgnb`` they use.

    Starting from ``objects``, it follows every name and attribute chain in their source that
    resolves to a function, class or module of ``rgnb`` (transitively), and includes the values of the
    module-level constants they name. Docstrings, comments and layout do not count
    (:func:`normalized_source`), and neither does the order of ``objects``. What the source reaches only
    at run time (a method called on an argument whose class is never named) is not followed: pass
    it as one of ``objects``. For the local cache only: shipped results are checked by the numerics
    contract (``rgnb.mlp.train.NUMERICS_VERSION``), not by source text. Raises ``ValueError`` for an object
    without Python source (a builtin, a lambda typed at a prompt).
    """
    if not objects:
        raise ValueError("source_hash needs at least one function, class or module")
    for obj in objects:
        if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj) or inspect.ismodule(obj)):
            raise ValueError(f"objects must be functions, classes or modules with Python source, got {obj!r}")
    parts: dict[str, str] = {}
    constants: dict[str, str] = {}
    todo = list(objects)
    while todo:
        obj = todo.pop()
        name = _qualname(obj)
        if name in parts:
            continue
        parts[name] = normalized_source(obj)
        found, named = _references(obj)
        constants.update(named)
        todo.extend(f for f in found if _qualname(f) not in parts)
    h = hashlib.sha256()
    for text in [f"{k}\n{v}" for k, v in sorted(parts.items())] + [f"{k}={v}" for k, v in sorted(constants.items())]:
        data = text.encode()
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_name(name: str) -> None:
    if not name or name in (MANIFEST, META) or name.startswith(".") or "\\" in name or ".." in name.split("/"):
        raise ValueError(f"array name must be a plain relative name, got {name!r}")


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key or key.startswith(".") or "/" in key or "\\" in key or key in (".", ".."):
        raise ValueError(f"key must be a plain file name (no '/', not starting with '.'), got {key!r}")
    return key


@contextlib.contextmanager
def _locked(root: Path, key: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<root>/.<key>.lock`` (released when the process dies)."""
    with open(root / f".{key}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sweep_temp(cache_dir: str | os.PathLike | None = None, max_age_s: float = STALE_TEMP_S) -> list[Path]:
    """Remove abandoned ``.<key>.tmp-<pid>-*`` directories (writer dead, or older than ``max_age_s``)."""
    root = cache_root(cache_dir)
    removed = []
    now = time.time()
    for path in root.glob(".*.tmp-*"):
        pid_text = path.name.rsplit(".tmp-", 1)[1].split("-", 1)[0]
        try:
            dead = pid_text.isdigit() and not pid_alive(int(pid_text))
            old = now - _newest_mtime(path) > max_age_s
        except FileNotFoundError:
            continue
        if dead or old:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _newest_mtime(path: Path) -> float:
    """Latest modification time of a directory and everything in it (a writer refreshes it)."""
    newest = path.lstat().st_mtime
    for parent, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                newest = max(newest, os.lstat(os.path.join(parent, name)).st_mtime)
    return newest


class _Terminated(BaseException):
    pass


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While a store runs, SIGTERM (default action) raises so the temp directory is removed first."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield  # another handler (or none installable): it raises or the sweep cleans up later
        return

    def handler(signum, frame):
        raise _Terminated(signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def store(key: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any],
          cache_dir: str | os.PathLike | None = None, overwrite: bool = False) -> Path:
    """Write an entry atomically and return its directory.

    ``arrays``: name -> array (a name may contain ``/`` for sub-folders); saved as ``<name>.npy``.
    ``meta``: JSON-serialisable record (config, versions, device, wall time, ...).
    If a complete entry for ``key`` is already there (another writer won the race), it is kept and
    returned unless ``overwrite``; an incomplete one is replaced. Safe under concurrent writers.
    """
    key = _check_key(key)
    root = cache_root(cache_dir)
    final = root / key
    sweep_temp(root)
    with _sigterm_raises():
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-{os.getpid()}-", dir=root))
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
            with _locked(root, key):
                if final.exists():
                    if not overwrite and verify(key, root)[0]:
                        shutil.rmtree(tmp, ignore_errors=True)  # lost the race to an identical entry
                        return final
                    trash = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-{os.getpid()}-old-", dir=root))
                    os.replace(final, trash / "entry")
                    shutil.rmtree(trash, ignore_errors=True)
                os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def verify(key: str, cache_dir: str | os.PathLike | None = None) -> tuple[bool, str]:
    """Whether the entry ``key`` is complete and intact: ``(ok, reason)``."""
    entry = cache_root(cache_dir) / _check_key(key)
    try:
        return _verify(entry, key)
    except OSError:  # removed or replaced while we read it
        return False, "entry vanished while being read"


def _verify(entry: Path, key: str) -> tuple[bool, str]:
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
    root = cache_root(cache_dir)
    entry = root / _check_key(key)
    ok, reason = verify(key, root)
    if not ok:
        if remove_bad and entry.exists():
            with _locked(root, key):  # a writer may have just put a good entry in place: look again
                if entry.exists() and not verify(key, root)[0]:
                    trash = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-{os.getpid()}-bad-", dir=root))
                    os.replace(entry, trash / "entry")
                    shutil.rmtree(trash, ignore_errors=True)
        return None
    try:
        return Entry(entry, json.loads((entry / META).read_text()))
    except (OSError, ValueError):
        return None
