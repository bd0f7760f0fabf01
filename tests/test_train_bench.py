"""Tests of rgnb.train_bench: product shapes and FLOPs, the report's ratios, the CLI end to end (tiny)."""

import dataclasses
import json

import pytest
import torch

from rgnb import models, train_bench
from rgnb.step import StepOptions
from rgnb.train import SweepConfig

TINY = SweepConfig(vocab_size=4, seq_len=6, xis=(1.0,), depths=(2,), seeds=(0, 1), width=8, channel_mult=2,
                   batch_size=4, steps=10, warmup=1, log_every=5)


def test_mlp_product_shapes_count_the_model_flops():
    """The four MLP products per block carry all of the model's FLOPs but the unembedding."""
    mcfg = models.ModelConfig(vocab_size=5, seq_len=7, width=6, depth=3, token_mult=2, channel_mult=3)
    M, B = 4, 5
    shapes = train_bench.mlp_product_shapes(mcfg, M, B)
    block = sum(2 * Mm * m * k * n for Mm, m, k, n in shapes) / M / B
    unembed = 2 * mcfg.seq_len * mcfg.width * mcfg.vocab_size
    assert mcfg.depth * block + unembed == pytest.approx(mcfg.flops_per_sequence())
    T, d, Ht, Hc = 7, 6, 14, 18
    assert shapes == [(M, Ht, T, B * d), (M, T, Ht, B * d), (M, T * B, d, Hc), (M, T * B, Hc, d)]


def test_isolated_seconds_scale_with_depth_and_flops_are_exact():
    mcfg = TINY.model_config(2)
    sec, flops = train_bench.isolated_mlp_seconds(mcfg, 2, 4, torch.device("cpu"), repeats=1)
    mlp_flops = 3 * 2 * (mcfg.flops_per_sequence() / 2 - mcfg.seq_len * mcfg.width * mcfg.vocab_size) * 2 * 4
    assert flops == pytest.approx(mlp_flops) and sec > 0
    one_block, _ = train_bench.isolated_mlp_seconds(TINY.model_config(1), 2, 4, torch.device("cpu"), repeats=3)
    deep, _ = train_bench.isolated_mlp_seconds(TINY.model_config(6), 2, 4, torch.device("cpu"), repeats=3)
    assert deep > 2 * one_block  # six blocks' products take six times one block's (timed: a loose bound)


def test_projection_scales_groups_by_depth():
    cfg = dataclasses.replace(TINY, depths=(2, 4, 8), steps=100, warmup=10)
    p = train_bench.project_sweep(cfg, depth=8, step_s=0.8)
    assert p["per_step_s"] == {2: pytest.approx(0.2), 4: pytest.approx(0.4), 8: pytest.approx(0.8)}
    assert p["seconds"] == pytest.approx(100 * 1.4)


def test_benchmark_ratios_are_consistent():
    out = train_bench.benchmark(TINY, 2, 2, steps=1, repeats=1, device=torch.device("cpu"), options=StepOptions())
    sec = out["step_seconds"]
    assert out["speedup"] == pytest.approx(sec["loop"] / sec["batched"])
    assert out["efficiency"] == pytest.approx(out["mlp_isolated_seconds"] / sec["batched"])
    assert out["flops_per_s"]["batched"] == pytest.approx(out["step_flops"] / sec["batched"])
    step_flops = 3 * TINY.model_config(2).flops_per_sequence() * TINY.batch_size * 2
    assert out["step_flops"] == pytest.approx(step_flops)
    assert out["of_square_matmul"] == pytest.approx(out["flops_per_s"]["batched"] / out["square_matmul"]["flops_per_s"])
    text = train_bench.report(out)
    for needle in ("batched", "loop", "efficiency", "speed-up", "square matmul", "GFLOP/s"):
        assert needle in text


def test_cli_runs(capsys, monkeypatch, tmp_path):
    from rgnb.__main__ import main
    monkeypatch.setattr("rgnb.train.sweep_for", lambda profile: TINY)
    before = torch.get_num_threads()
    try:
        assert main(["bench", "train", "--models", "2", "--steps", "1", "--repeats", "1", "--threads", "1",
                     "--project", "--no-loop", "--json", str(tmp_path / "b.json"), "--clock", "cpu"]) == 0
    finally:
        torch.set_num_threads(before)
    text = capsys.readouterr().out
    assert "projected training time" in text and "loop" not in text.split("\n")[1]
    saved = json.loads((tmp_path / "b.json").read_text())
    assert saved["n_models"] == 2 and saved["projection"]["steps"] == TINY.steps and saved["clock"] == "cpu"
    assert train_bench._clock is train_bench.CLOCKS["wall"]
    with pytest.raises(ValueError, match="threads"):
        main(["bench", "train", "--threads", "0"])
