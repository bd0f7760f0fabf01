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
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


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
