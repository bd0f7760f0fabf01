"""Tests of the numerics contract's golden arrays (rgnb.mlp.golden): the stored arrays are what the
training code computes now, bit for bit, and the comparison sees a one-ulp change."""

import numpy as np
import pytest
import torch

from rgnb.mlp import golden, sweeps, train

MANIFEST = golden.manifest()
pinned = pytest.mark.skipif(torch.__version__ != MANIFEST["torch"],
                            reason=f"golden arrays are bit-exact on the pinned torch {MANIFEST['torch']} only")


def test_the_golden_arrays_belong_to_this_numerics_version():
    assert MANIFEST["numerics_version"] == train.NUMERICS_VERSION, (
        "NUMERICS_VERSION was bumped: regenerate the golden arrays with tools/regenerate_golden.py")
    assert MANIFEST["families"] == list(golden.families()) == sorted(sweeps.sweeps_for("reference"))


@pinned
@pytest.mark.parametrize("family", golden.families())
def test_training_computes_the_golden_arrays_bit_for_bit(family):
    differences = golden.compare(golden.stored(family), golden.train_golden(family))
    assert not differences, (f"the training of {family} no longer computes its golden arrays: {differences}. "
                             "If the change is meant to alter the numbers, bump rgnb.mlp.train.NUMERICS_VERSION and run "
                             "tools/regenerate_golden.py (the shipped weights then need retraining).")


def test_golden_configs_shrink_only_sizes():
    for family in golden.families():
        shipped, small = sweeps.sweeps_for("reference")[family], golden.golden_config(family)
        same = ("kind", "vocab_size", "mask", "lr", "min_lr_frac", "weight_decay", "beta1", "beta2",
                "token_mult", "channel_mult", "architecture", "probe_seed", "eval_seed", "stream_dtype")
        assert all(getattr(small, f) == getattr(shipped, f) for f in same), family
        assert len(small.members()) <= 4 and small.steps == 20 and 0 < small.warmup < small.steps


def test_compare_sees_one_ulp_and_nothing_else():
    a = {"w": np.array([1.0, 2.0, 3.0], dtype=np.float32), "n": np.arange(3)}
    assert golden.compare(a, {k: v.copy() for k, v in a.items()}) == []
    b = dict(a, w=np.array([1.0, np.nextafter(np.float32(2.0), np.float32(3.0)), 3.0], dtype=np.float32))
    (line,) = golden.compare(a, b)
    assert line.startswith("w: 1 of 3 values differ, up to 1 ulp")
    assert golden.compare(a, dict(a, w=a["w"].astype(np.float64)))[0].startswith("w: float32[3] expected")
    assert golden.compare(a, {"w": a["w"]}) == ["n: only in expected"]


@pinned
def test_a_one_ulp_change_of_the_learning_rate_breaks_the_golden_arrays(monkeypatch):
    """The learning rate one float32 ulp lower at every step (the parameters are float32)."""
    real = train.lr_factor
    monkeypatch.setattr(train, "lr_factor",
                        lambda *args: float(np.nextafter(np.float32(real(*args)), np.float32(0.0))))
    differences = golden.compare(golden.stored("potts"), golden.train_golden("potts"))
    assert any(line.startswith("weights/") for line in differences)


def test_write_round_trips(tmp_path, monkeypatch):
    monkeypatch.setattr(golden, "families", lambda: ("shuffled",))
    golden.write(tmp_path)
    assert golden.manifest(tmp_path)["families"] == ["shuffled"]
    assert golden.compare(golden.stored("shuffled", tmp_path), golden.train_golden("shuffled")) == []
    with pytest.raises(FileNotFoundError, match="regenerate_golden"):
        golden.manifest(tmp_path / "none")
