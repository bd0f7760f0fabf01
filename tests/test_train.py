"""Tests of rgnb.train: ensemble = models alone, learning, caching, the result API, bad configs."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from rgnb import chains, models, train

TINY = train.SweepConfig(vocab_size=4, seq_len=8, xis=(1.0, 4.0), depths=(1, 2), seeds=(0, 1), width=8,
                         channel_mult=2, steps=60, warmup=6, batch_size=16, lr=1e-2, data_chunk=7, log_every=5,
                         n_probe=8, n_eval=64)


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    return train.run_sweep(TINY, "cpu", cache_dir=tmp_path_factory.mktemp("cache"), progress=False)


def test_ensemble_member_equals_model_trained_alone(tiny_result):
    for i in (1, 6):  # (depth 1, xi 1, seed 1) and (depth 2, xi 4, seed 0)
        m = tiny_result.members[i]
        alone_cfg = dataclasses.replace(TINY, xis=(m["xi"],), seeds=(m["seed"],), depths=(m["depth"],))
        arrays, _ = train.train_sweep(alone_cfg, torch.device("cpu"), progress=False)
        np.testing.assert_allclose(tiny_result.loss_per_step[:, i], arrays["loss_per_step"][:, 0], atol=1e-5, rtol=0)
        np.testing.assert_allclose(tiny_result.final_loss[i], arrays["final_loss"][0], atol=1e-5)
        np.testing.assert_allclose(tiny_result.streams(i, "init"), arrays["streams/init/0"], atol=1e-5)


def test_result_api_shapes_and_identities(tiny_result):
    r = tiny_result
    M = len(TINY.xis) * len(TINY.seeds) * len(TINY.depths)
    assert len(r.members) == M and r.members[0] == {"xi": 1.0, "seed": 0, "depth": 1, "kind": "potts"}
    assert r.loss_curves.shape == (M, TINY.steps // TINY.log_every)
    np.testing.assert_array_equal(r.loss_steps, np.arange(5, 61, 5))
    np.testing.assert_allclose(r.loss_curves[:, 0], r.loss_per_step[:5].mean(0), rtol=1e-6)
    for i, m in enumerate(r.members):
        for stage in train.STAGES:
            s = r.streams(i, stage)
            assert s.shape == (m["depth"] + 1, TINY.n_probe, TINY.seq_len, TINY.width) and s.dtype == np.float32
    probe = r.probe_tokens(4.0)
    assert probe.shape == (TINY.n_probe, TINY.seq_len) and probe.dtype == np.int64
    np.testing.assert_array_equal(probe == TINY.vocab_size, r.probe_mask(4.0))
    np.testing.assert_array_equal(np.where(r.probe_mask(4.0), TINY.vocab_size, r.probe_targets(4.0)), probe)
    np.testing.assert_allclose(r.excess_loss, r.final_loss - r.bayes_floor)
    assert np.all((r.bayes_low <= r.bayes_floor) & (r.bayes_floor <= r.bayes_high))
    rows = r.runs_table()
    assert len(rows) == M and {"seed", "steps", "device", "wall time (s, whole sweep)"} <= set(rows[0])
    assert r.select(xi=4.0, depth=2) == [6, 7]
    with pytest.raises(ValueError, match="xi"):
        r.probe_tokens(3.0)
    with pytest.raises(ValueError, match="stage"):
        r.streams(0, "final")


def test_stored_weights_reproduce_the_trained_streams(tiny_result):
    i = 5
    xi = tiny_result.members[i]["xi"]
    streams = models.residual_streams(tiny_result.weights(i), torch.from_numpy(tiny_result.probe_tokens(xi)))
    np.testing.assert_allclose(streams[0].numpy(), tiny_result.streams(i, "trained"), atol=1e-5)


def test_bayes_floor_is_a_lower_bound_and_matches_chains(tiny_result):
    # The Bayes predictor is optimal: on the same held-out set no model beats it beyond round-off.
    assert tiny_result.excess_loss.min() > -1e-3
    # The floor is the exact forward-backward loss on the held-out set ...
    tokens, mask, _ = train.fixed_set(TINY, 4.0, TINY.n_eval, TINY.eval_seed, torch.device("cpu"))
    P = chains.make_chain("potts", 4, 4.0)
    exact = float(chains.masked_token_losses(P, tokens, mask).sum() / mask.sum())
    i = tiny_result.select(xi=4.0)[0]
    assert tiny_result.bayes_floor[i] == pytest.approx(exact, rel=1e-12)


def test_loss_decreases_on_a_tiny_run(tiny_result):
    first, last = tiny_result.loss_curves[:, 0], tiny_result.loss_curves[:, -1]
    assert np.all(last < first)
    # better than the context-free predictor ln V for the long-correlation chain
    assert tiny_result.final_loss[tiny_result.select(xi=4.0)].max() < math.log(TINY.vocab_size)


def test_cache_hit_miss_and_corruption(tmp_path):
    cfg = dataclasses.replace(TINY, xis=(1.0,), seeds=(0,), depths=(1,), steps=5, warmup=1, log_every=5)
    first = train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False)
    assert not first.from_cache
    again = train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False)
    assert again.from_cache and again.key == first.key
    np.testing.assert_array_equal(again.loss_curves, first.loss_curves)
    stream_file = first.entry.path / "streams" / "trained" / "0.npy"
    data = bytearray(stream_file.read_bytes())
    data[-3] ^= 0x55
    stream_file.write_bytes(bytes(data))
    redone = train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False)
    assert not redone.from_cache
    np.testing.assert_array_equal(redone.streams(0, "trained"), first.streams(0, "trained"))  # deterministic
    other = train.run_sweep(dataclasses.replace(cfg, seeds=(1,)), "cpu", cache_dir=tmp_path, progress=False)
    assert not other.from_cache and other.key != first.key
    meta = redone.entry.meta
    assert {"config", "env", "device", "wall_time_s"} <= set(meta) and meta["env"]["torch"] == torch.__version__


def test_lr_schedule():
    f = [train.lr_factor(s, 10, 100, 0.1) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0) and f[10] == pytest.approx(1.0)
    assert f[-1] == pytest.approx(0.1, abs=1e-3) and all(a >= b for a, b in zip(f[10:], f[11:]))


@pytest.mark.parametrize("field,value", [("depths", (0,)), ("depths", (2, 0)), ("width", 0), ("steps", 0),
                                         ("xis", (100.0,)), ("seeds", ()), ("batch_size", 0),
                                         ("stream_dtype", "int8"), ("kind", "zigzag")])
def test_bad_config_names_the_parameter(field, value):
    name = {"depths": "depth", "xis": "xi"}.get(field, field)
    with pytest.raises(ValueError, match=name if field != "seeds" else "seeds"):
        dataclasses.replace(TINY, **{field: value})


def test_profiles():
    assert train.sweep_for("smoke") is train.SWEEPS["smoke"]
    full = train.sweep_for("full")
    assert len(full.seeds) >= 5 and max(full.depths) >= 8 and len(full.depths) >= 2
    smoke = train.SWEEPS["smoke"]
    assert len(smoke.seeds) >= 3 and len(smoke.depths) >= 2 and {1.0, 7.0} <= set(smoke.xis)
    with pytest.raises(ValueError, match="profile"):
        train.sweep_for("huge")
    with pytest.raises(ValueError, match="config"):
        train.run_sweep({"steps": 3}, "cpu")
