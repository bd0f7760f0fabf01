"""Tests of the numerics contract's golden arrays (rgnb.mlp.golden): the stored arrays are what the
training code computes now, bit for bit, and the comparison sees a one-ulp change."""

import numpy as np
import pytest
import torch

from rgnb.mlp import golden, sweeps, train

MANIFEST = golden.manifest()
KINDS = golden.kinds()
HERE = golden.machine_kind()
pinned = pytest.mark.skipif(torch.__version__ != MANIFEST["torch"],
                            reason=f"golden arrays are bit-exact on the pinned torch {MANIFEST['torch']} only")


def _own_bits(family):
    """This machine kind's stored arrays; the first set when the kind is unrecorded and the first set matches
    it bit for bit (then this is that kind); None otherwise."""
    if HERE in KINDS:
        return golden.stored(family, KINDS[HERE])
    first = golden.stored(family)
    if golden.UNRECORDED in KINDS and not golden.compare(first, golden.train_golden(family)):
        return first
    return None


def test_the_golden_arrays_belong_to_this_numerics_version():
    assert MANIFEST["numerics_version"] == train.NUMERICS_VERSION, (
        "NUMERICS_VERSION was bumped: regenerate the golden arrays with tools/regenerate_golden.py")
    assert MANIFEST["families"] == list(golden.families()) == sorted(sweeps.sweeps_for("reference"))


@pinned
@pytest.mark.parametrize("family", golden.families())
def test_training_computes_the_golden_arrays_bit_for_bit(family):
    expected = _own_bits(family)
    if expected is None:
        pytest.skip(f"no golden bits for machine kind {HERE!r} (stored: {sorted(KINDS)}); the losses are still "
                    "checked; add them with tools/regenerate_golden.py --add-machine")
    differences = golden.compare(expected, golden.train_golden(family))
    assert not differences, (f"the training of {family} no longer computes its golden arrays: {differences}. "
                             "If the change is meant to alter the numbers, bump rgnb.mlp.train.NUMERICS_VERSION and run "
                             "tools/regenerate_golden.py (the shipped weights then need retraining).")


@pinned
@pytest.mark.parametrize("family", golden.families())
def test_training_computes_the_golden_losses_on_any_machine_kind(family):
    """Across machine kinds the bits differ (vector kernels; LayerNorm-flat directions of the weights), the
    losses do not: every stored kind's per-step and held-out losses within LOSS_TOLERANCE of this machine's."""
    computed = golden.train_golden(family)
    for kind, directory in KINDS.items():
        assert not golden.loss_differences(golden.stored(family, directory), computed), kind


def test_loss_differences_see_a_real_change():
    a = {"loss_per_step": np.array([2.0, 1.5]), "final_loss": np.array([1.2])}
    assert golden.loss_differences(a, {k: v.copy() for k, v in a.items()}) == []
    (line,) = golden.loss_differences(a, dict(a, final_loss=np.array([1.2 + 2e-5])))
    assert line.startswith("final_loss")


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
    if HERE not in KINDS:
        pytest.skip(f"no golden bits for machine kind {HERE!r}")
    differences = golden.compare(golden.stored("potts", KINDS[HERE]), golden.train_golden("potts"))
    assert any(line.startswith("weights/") for line in differences)


def test_write_round_trips(tmp_path, monkeypatch):
    monkeypatch.setattr(golden, "families", lambda: ("shuffled",))
    golden.write(tmp_path)
    assert golden.manifest(tmp_path)["families"] == ["shuffled"]
    assert golden.compare(golden.stored("shuffled", tmp_path), golden.train_golden("shuffled")) == []
    with pytest.raises(FileNotFoundError, match="regenerate_golden"):
        golden.manifest(tmp_path / "none")
