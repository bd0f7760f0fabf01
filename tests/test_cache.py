"""Tests of rgnb.cache: keys, atomic store, hit, miss, partial and corrupted entries."""

import json

import numpy as np
import pytest

from rgnb import cache
from rgnb.chains import MaskSpec


def _arrays():
    return {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "sub/b": np.array([1, 2, 3], dtype=np.int64)}


def test_key_is_deterministic_and_sensitive():
    k1 = cache.config_key({"x": (1, 2), "mask": MaskSpec(0.3, 4)}, version="1")
    assert k1 == cache.config_key({"mask": MaskSpec(0.3, 4), "x": (1, 2)}, version="1")
    assert k1 != cache.config_key({"x": (1, 2), "mask": MaskSpec(0.3, 5)}, version="1")
    assert k1 != cache.config_key({"x": (1, 2), "mask": MaskSpec(0.3, 4)}, version="2")


def test_store_then_hit(tmp_path):
    assert cache.load("k", tmp_path) is None  # miss
    path = cache.store("k", _arrays(), {"seed": 3, "wall_time_s": 1.5}, tmp_path)
    entry = cache.load("k", tmp_path)
    assert entry is not None and entry.path == path
    assert entry.meta == {"seed": 3, "wall_time_s": 1.5}
    assert entry.names() == ["a", "sub/b"]
    np.testing.assert_array_equal(entry.array("a"), _arrays()["a"])
    np.testing.assert_array_equal(entry.array("sub/b", mmap=True), _arrays()["sub/b"])
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no temp dirs left


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "delete_file", "delete_manifest", "bad_manifest"])
def test_corrupted_or_partial_entry_is_a_miss_and_removed(tmp_path, damage):
    path = cache.store("k", _arrays(), {"seed": 1}, tmp_path)
    target = path / "a.npy"
    if damage == "flip_byte":
        data = bytearray(target.read_bytes())
        data[-1] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "truncate":
        target.write_bytes(target.read_bytes()[:-5])
    elif damage == "delete_file":
        (path / "sub" / "b.npy").unlink()
    elif damage == "delete_manifest":
        (path / cache.MANIFEST).unlink()
    else:
        (path / cache.MANIFEST).write_text("{not json")
    ok, reason = cache.verify("k", tmp_path)
    assert not ok and reason
    assert cache.load("k", tmp_path) is None
    assert not path.exists()
    cache.store("k", _arrays(), {"seed": 1}, tmp_path)  # recompute
    assert cache.load("k", tmp_path) is not None


def test_manifest_lists_checksums(tmp_path):
    path = cache.store("k", _arrays(), {}, tmp_path)
    manifest = json.loads((path / cache.MANIFEST).read_text())
    assert set(manifest["files"]) == {"a.npy", "sub/b.npy", cache.META}
    assert all(len(v["sha256"]) == 64 for v in manifest["files"].values())


def test_env_var_sets_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RGNB_CACHE", str(tmp_path / "c"))
    assert cache.cache_root() == tmp_path / "c"


def test_bad_array_name(tmp_path):
    with pytest.raises(ValueError, match="array name"):
        cache.store("k", {"../x": np.zeros(1)}, {}, tmp_path)


# --------------------------------------------------------------------------------------------- #
# Concurrency, interrupted writers, stale temp directories, source keys
# --------------------------------------------------------------------------------------------- #
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _concurrent_store(args):
    root, start_at = args
    while time.time() < start_at:  # start together
        time.sleep(0.001)
    try:
        arrays = {"big": np.arange(200_000, dtype=np.float64), "small": np.ones(3)}
        path = cache.store("same-key", arrays, {"writer": "any"}, root)
        return str(path)
    except BaseException as exc:  # noqa: BLE001 - report any failure to the parent
        return f"ERROR {type(exc).__name__}: {exc}"


def test_64_concurrent_stores_of_one_key_all_succeed(tmp_path):
    ctx = multiprocessing.get_context("fork")
    start_at = time.time() + 2.0
    with ctx.Pool(16) as pool:
        results = pool.map(_concurrent_store, [(str(tmp_path), start_at)] * 64)
    errors = [r for r in results if r.startswith("ERROR")]
    assert errors == [] and set(results) == {str(tmp_path / "same-key")}
    entry = cache.load("same-key", tmp_path)
    assert entry is not None and entry.meta == {"writer": "any"}
    np.testing.assert_array_equal(entry.array("big"), np.arange(200_000, dtype=np.float64))
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []  # no half entries left


def test_store_keeps_a_complete_entry_and_replaces_a_broken_one(tmp_path):
    first = cache.store("k", {"a": np.zeros(2)}, {"n": 1}, tmp_path)
    cache.store("k", {"a": np.ones(2)}, {"n": 2}, tmp_path)  # loses the race: entry kept
    assert cache.load("k", tmp_path).meta == {"n": 1}
    cache.store("k", {"a": np.ones(2)}, {"n": 3}, tmp_path, overwrite=True)
    assert cache.load("k", tmp_path).meta == {"n": 3}
    (first / cache.MANIFEST).unlink()  # now incomplete: a new store must replace it
    cache.store("k", {"a": np.ones(2)}, {"n": 4}, tmp_path)
    assert cache.load("k", tmp_path).meta == {"n": 4}


SLOW_STORE = """
import sys, time, numpy as np
from pathlib import Path
from rgnb import cache
real_save = np.save
def slow_save(path, arr, allow_pickle=False):
    real_save(path, arr, allow_pickle=allow_pickle)
    Path(sys.argv[1], "started").write_text("1")
    time.sleep(60)
np.save = slow_save
cache.store("k", {"a": np.zeros(10), "b": np.zeros(10)}, {}, Path(sys.argv[1], "c"))
"""


def test_sigterm_during_store_leaves_no_temp_directory(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SLOW_STORE, str(tmp_path)], env=dict(os.environ, PYTHONPATH=str(REPO)))
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "started").exists()
    assert [p for p in (tmp_path / "c").iterdir() if ".tmp-" in p.name]  # mid-store: the temp dir exists
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert [p.name for p in (tmp_path / "c").iterdir() if not p.name.endswith(".lock")] == []


def test_stale_temp_directories_are_swept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    of_dead = tmp_path / f".k.tmp-{dead.pid}-abc"
    old = tmp_path / f".k.tmp-{os.getpid()}-old"
    fresh = tmp_path / f".k.tmp-{os.getpid()}-new"
    for d in (of_dead, old, fresh):
        d.mkdir()
        (d / "a.npy").write_bytes(b"x")
    past = time.time() - 2 * cache.STALE_TEMP_S
    os.utime(old / "a.npy", (past, past))
    os.utime(old, (past, past))
    cache.store("other", {"a": np.zeros(1)}, {}, tmp_path)
    assert not of_dead.exists() and not old.exists() and fresh.exists()


def _f(x):
    return x + 1


def _g(x):
    return x + 2


class _C:
    def m(self):
        return 1


def test_source_hash_follows_the_source():
    assert cache.source_hash(_f) == cache.source_hash(_f) and len(cache.source_hash(_f)) == 64
    assert cache.source_hash(_f) != cache.source_hash(_g)
    assert cache.source_hash(_f, _g) == cache.source_hash(_g, _f)  # a set of code, not a sequence
    assert cache.source_hash(_C) != cache.source_hash(_f)
    assert cache.source_hash(cache) == cache.source_hash(cache)  # modules work


def test_source_hash_changes_when_a_function_is_edited(tmp_path, monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "edited_mod.py").write_text("def measure(x):\n    return x * 2\n")
    mod = importlib.import_module("edited_mod")
    before = cache.source_hash(mod.measure)
    (tmp_path / "edited_mod.py").write_text("def measure(x):\n    return x * 3\n")
    import linecache

    linecache.clearcache()
    mod = importlib.reload(mod)
    assert cache.source_hash(mod.measure) != before


def _module(tmp_path, monkeypatch, name, text):
    import importlib
    import linecache
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / f"{name}.py").write_text(text)
    linecache.clearcache()
    if name in sys.modules:
        return importlib.reload(sys.modules[name])
    return importlib.import_module(name)


_MEASURE = """
from rgnb import cache as _cache
SCALE = {scale}

def helper(x):
    {doc}return x * SCALE  # {comment}

def measure(x):
    return helper(x) + {offset}

def unrelated():
    return {unrelated}
"""


def _measure_hash(tmp_path, monkeypatch, name, **fields):
    values = dict(scale=2, doc="", comment="c", offset=1, unrelated=0) | fields
    mod = _module(tmp_path, monkeypatch, name, _MEASURE.format(**values))
    monkeypatch.setattr(cache, "_FOLLOWED_PACKAGE", name)  # follow the test module as if it were rgnb
    return cache.source_hash(mod.measure)


@pytest.mark.parametrize("field, value, changes", [
    ("doc", '"""A docstring."""\n    ', False),   # docstrings do not count
    ("comment", "another comment", False),          # nor comments
    ("unrelated", 5, False),                        # nor code that measure never reaches
    ("offset", 2, True),                            # the function itself
    ("scale", 3, True),                             # a module constant its callee names
])
def test_source_hash_follows_what_the_code_computes(tmp_path, monkeypatch, field, value, changes):
    before = _measure_hash(tmp_path, monkeypatch, f"mod_{field}")
    after = _measure_hash(tmp_path, monkeypatch, f"mod_{field}", **{field: value})
    assert (after != before) is changes


def test_source_hash_follows_the_callees_of_the_training_code():
    """Not a hand-kept list: the functions the training loop calls are found from its calls."""
    from rgnb import chains, validate
    from rgnb.mlp import sweeps, train

    reached = set()
    todo = [train.train_sweep]
    while todo:
        obj = todo.pop()
        if cache._qualname(obj) not in reached:
            reached.add(cache._qualname(obj))
            todo.extend(cache._references(obj)[0])
    for callee in (chains.sample_mask, chains._check_transition, chains.bayes_posteriors, train.evaluate,
                   validate.check_int, sweeps.SweepConfig, train.lr_factor):
        assert cache._qualname(callee) in reached


@pytest.mark.parametrize("bad", [len, 3, "text"])
def test_source_hash_refuses_objects_without_source(bad):
    with pytest.raises(ValueError, match="objects must be functions, classes or modules"):
        cache.source_hash(bad)


@pytest.mark.parametrize("key", ["", ".hidden", "a/b", ".."])
def test_bad_keys_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="key must be a plain file name"):
        cache.store(key, {"a": np.zeros(1)}, {}, tmp_path)


def test_the_final_rename_waits_for_the_key_lock(tmp_path):
    """A writer holding the key's lock keeps every other writer of that key from renaming."""
    code = ("import sys, numpy as np; from rgnb import cache; "
            "cache.store('k', {'a': np.zeros(3)}, {'who': 'child'}, sys.argv[1])")
    with cache._locked(tmp_path, "k"):
        child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                                 env=dict(os.environ, PYTHONPATH=str(REPO)))
        deadline = time.monotonic() + 60
        while not [p for p in tmp_path.iterdir() if ".tmp-" in p.name] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)
        assert child.poll() is None and not (tmp_path / "k").exists()  # blocked on the lock
    assert child.wait(timeout=60) == 0
    assert cache.load("k", tmp_path).meta == {"who": "child"}
