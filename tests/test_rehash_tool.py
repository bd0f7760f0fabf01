"""Tests of tools/rehash_shipped.py: the byte comparison and the manifest update it makes after one."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

_SPEC = importlib.util.spec_from_file_location("rehash_shipped",
                                               Path(__file__).resolve().parents[1] / "tools" / "rehash_shipped.py")
rehash = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(rehash)


def test_identical_compares_bytes_dtype_and_names(tmp_path):
    a = np.arange(6, dtype=np.float32)
    np.savez(tmp_path / "x.npz", w=a, v=a + 1)
    np.savez(tmp_path / "same.npz", w=a.copy(), v=a + 1)
    b = a.copy()
    b[3] = np.nextafter(b[3], np.float32(10))  # one ulp
    np.savez(tmp_path / "ulp.npz", w=b, v=a + 1)
    np.savez(tmp_path / "dtype.npz", w=a.astype(np.float64), v=a + 1)
    np.savez(tmp_path / "missing.npz", w=a)
    assert rehash.identical(tmp_path / "x.npz", tmp_path / "same.npz") == []
    assert rehash.identical(tmp_path / "x.npz", tmp_path / "ulp.npz") == ["w"]
    assert rehash.identical(tmp_path / "x.npz", tmp_path / "dtype.npz") == ["w"]
    assert rehash.identical(tmp_path / "x.npz", tmp_path / "missing.npz") == ["v"]


def test_updated_manifest_adds_fields_and_refuses_changed_ones():
    manifest = {"code_hash": "old", "sweeps": {"potts": {"config": {"lr": 0.01, "steps": 5000}, "sha256": "s"}}}
    out = rehash.updated_manifest(manifest, "new", {"potts": {"lr": 0.01, "steps": 5000, "architecture": "mixer"}},
                                  {"verified_against": "abc"})
    assert out["code_hash"] == "new" and out["sweeps"]["potts"]["sha256"] == "s"
    assert out["sweeps"]["potts"]["config"]["architecture"] == "mixer"
    entry = out["rehash_history"][-1]
    assert entry["previous_code_hash"] == "old" and entry["added_config_fields"] == {"potts": ["architecture"]}
    assert manifest["code_hash"] == "old"  # the input is not modified
    with pytest.raises(ValueError, match=r"fields \['lr'\] changed value"):
        rehash.updated_manifest(manifest, "new", {"potts": {"lr": 0.02, "steps": 5000}}, {})
    json.dumps(out)
