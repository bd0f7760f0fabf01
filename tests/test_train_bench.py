"""Tests of rgnb.mlp.bench: product shapes and FLOPs, the report's ratios, the CLI end to end (tiny)."""

import dataclasses
import json

import pytest
import torch

from rgnb.mlp import bench, model
from rgnb.mlp.step import StepOptions
from rgnb.mlp.sweeps import SweepConfig

TINY = SweepConfig(vocab_size=4, seq_len=6, xis=(1.0,), depths=(2,), seeds=(0, 1), width=8, channel_mult=2,
                   batch_size=4, steps=10, warmup=1, log_every=5)


def test_mlp_product_shapes_count_the_model_flops():
    """The four MLP products per block carry all of the model's FLOPs but the unembedding."""
    mcfg = model.ModelConfig(vocab_size=5, seq_len=7, width=6, depth=3, token_mult=2, channel_mult=3)
    M, B = 4, 5
    shapes = bench.mlp_product_shapes(mcfg, M, B)
    block = sum(2 * Mm * m * k * n for Mm, m, k, n in shapes) / M / B
    unembed = 2 * mcfg.seq_len * mcfg.width * mcfg.vocab_size
    assert mcfg.depth * block + unembed == pytest.approx(mcfg.flops_per_sequence())
    T, d, Ht, Hc = 7, 6, 14, 18
    assert shapes == [(M, Ht, T, B * d), (M, T, Ht, B * d), (M, T * B, d, Hc), (M, T * B, Hc, d)]


def test_isolated_flops_are_exact_and_scale_with_depth():
    """The FLOP count is exact and linear in depth; the time is only checked to be measured (a timed
    comparison flakes on a shared machine: the benchmark reports ratios, the tests do not time)."""
    mcfg = TINY.model_config(2)
    sec, flops = bench.isolated_mlp_seconds(mcfg, 2, 4, torch.device("cpu"), repeats=1)
    mlp_flops = 3 * 2 * (mcfg.flops_per_sequence() / 2 - mcfg.seq_len * mcfg.width * mcfg.vocab_size) * 2 * 4
    assert flops == pytest.approx(mlp_flops) and sec > 0
    _, one_block = bench.isolated_mlp_seconds(TINY.model_config(1), 2, 4, torch.device("cpu"), repeats=1)
    _, deep = bench.isolated_mlp_seconds(TINY.model_config(6), 2, 4, torch.device("cpu"), repeats=1)
    assert deep == pytest.approx(6 * one_block)


def test_projection_scales_groups_by_depth():
    cfg = dataclasses.replace(TINY, depths=(2, 4, 8), steps=100, warmup=10)
    p = bench.project_sweep(cfg, depth=8, step_s=0.8)
    assert p["per_step_s"] == {2: pytest.approx(0.2), 4: pytest.approx(0.4), 8: pytest.approx(0.8)}
    assert p["seconds"] == pytest.approx(100 * 1.4)


def test_benchmark_ratios_are_consistent():
    out = bench.benchmark(TINY, 2, 2, steps=1, repeats=1, device=torch.device("cpu"), options=StepOptions())
    sec = out["step_seconds"]
    assert out["speedup"] == pytest.approx(sec["loop"] / sec["batched"])
    assert out["efficiency"] == pytest.approx(out["mlp_isolated_seconds"] / sec["batched"])
    assert out["flops_per_s"]["batched"] == pytest.approx(out["step_flops"] / sec["batched"])
    step_flops = 3 * TINY.model_config(2).flops_per_sequence() * TINY.batch_size * 2
    assert out["step_flops"] == pytest.approx(step_flops)
    assert out["of_square_matmul"] == pytest.approx(out["flops_per_s"]["batched"] / out["square_matmul"]["flops_per_s"])
    floor = out["mlp_isolated_seconds"] + sum(out["nonlinearity_isolated_seconds"].values())
    assert out["kernel_floor_seconds"] == pytest.approx(floor)
    assert out["of_kernel_floor"] == pytest.approx(floor / sec["batched"])
    assert out["efficiency_ceiling"] == pytest.approx(out["mlp_isolated_seconds"] / floor)
    assert out["speedup_ceiling"] == pytest.approx(sec["loop"] / floor)
    assert out["over_plain_layout"] == pytest.approx(sec["plain"] / sec["batched"])
    text = bench.report(out)
    for needle in ("batched", "loop", "efficiency", "speed-up", "square matmul", "GFLOP/s", "kernel floor",
                   "efficiency ceiling", "pre-issue-12 layout", "GELU alone"):
        assert needle in text


def test_isolated_nonlinearities_count_every_gelu_and_layer_norm(monkeypatch):
    """Two GELUs per block on the two hidden shapes; 2 L + 1 LayerNorms on the stream, none without LayerNorm."""
    seen = []
    real_gelu = bench.F.gelu
    monkeypatch.setattr(bench.F, "gelu", lambda x: seen.append(tuple(x.shape)) or real_gelu(x))
    monkeypatch.setattr(bench, "_median_seconds", lambda fn, repeats, device, inner=1: (fn(), 1.0)[1])
    mcfg = model.ModelConfig(vocab_size=4, seq_len=6, width=8, depth=3, token_mult=2, channel_mult=3)
    out = bench.isolated_nonlinearity_seconds(mcfg, 2, 5, torch.device("cpu"))
    assert out == {"gelu": 2.0 * 3, "layer_norm": 2.0 * 3 + 1}
    assert seen == [(2, 12, 5 * 8), (2, 6 * 5, 24)]
    no_ln = dataclasses.replace(mcfg, layer_norm=False)
    assert bench.isolated_nonlinearity_seconds(no_ln, 2, 5, torch.device("cpu")) == {"gelu": 6.0,
                                                                                            "layer_norm": 0.0}


def test_plain_layout_baseline_takes_the_same_step():
    """The bench's baseline (pre-issue-12 layout) and the training step: same losses and gradients."""
    from rgnb.mlp.step import make_optimizer, train_step
    mcfg = TINY.model_config(2)
    inputs, targets, mask = (x[0] for x in bench._bench_batches(TINY, 2, 1, torch.device("cpu")))
    runs = []
    for step_fn in (lambda p, o: train_step(p, o, inputs, targets, mask, StepOptions()),
                    lambda p, o: bench.plain_layout_step(p, o, inputs, targets, mask)):
        params = {k: v.requires_grad_(True) for k, v in model.init_params(mcfg, [0, 1]).items()}
        opt = make_optimizer(params, TINY)
        runs.append((step_fn(params, opt), params))
    torch.testing.assert_close(runs[1][0], runs[0][0], rtol=1e-5, atol=1e-6)
    scale = max(float(p.grad.abs().max()) for p in runs[0][1].values())
    for k, p in runs[0][1].items():
        assert float((runs[1][1][k].grad - p.grad).abs().max()) <= 1e-5 * scale, k


def test_profile_projection_scales_the_measured_step_per_network():
    """Per-network step time (step / models, at depth 8 and batch 64) times every sweep's network-steps, over the cores."""
    from rgnb.mlp.sweeps import cpu_training_estimate_h
    out = {"step_seconds": {"batched": 0.2, "plain": 0.3, "loop": 9.0}, "n_models": 10, "depth": 4, "batch": 32}
    p = bench.project_profile_cpu("reference", out, cores=2)
    # 0.2 s / 10 networks = 20 ms at depth 4, batch 32 -> 80 ms at depth 8, batch 64
    assert p["hours"]["batched"] == pytest.approx(cpu_training_estimate_h("reference", 2, ms_per_model_step=80.0))
    assert p["hours"]["plain"] / p["hours"]["batched"] == pytest.approx(1.5)
    assert set(p["hours"]) == {"batched", "plain"} and p["cores"] == 2


def test_baseline_is_skipped_without_layer_norm():
    cfg = dataclasses.replace(TINY, architecture="mixer-no-layernorm")
    sec = bench.step_seconds(cfg, 2, 2, steps=1, repeats=1, device=torch.device("cpu"), options=StepOptions(),
                                   loop=False)
    assert set(sec) == {"batched"}


def test_cli_runs(capsys, monkeypatch, tmp_path):
    from rgnb.__main__ import main
    monkeypatch.setattr("rgnb.mlp.sweeps.sweep_for", lambda profile: TINY)
    before = torch.get_num_threads()
    try:
        assert main(["bench", "train", "--models", "2", "--steps", "1", "--repeats", "1", "--threads", "1",
                     "--project", "--no-loop", "--json", str(tmp_path / "b.json"), "--clock", "cpu"]) == 0
    finally:
        torch.set_num_threads(before)
    text = capsys.readouterr().out
    assert "projected training time" in text and "loop" not in text.split("\n")[1]
    assert "projected training time of every smoke sweep" in text and "pre-issue-12 layout" in text
    saved = json.loads((tmp_path / "b.json").read_text())
    assert saved["n_models"] == 2 and saved["projection"]["steps"] == TINY.steps and saved["clock"] == "cpu"
    assert bench._clock is bench.CLOCKS["wall"]
    with pytest.raises(ValueError, match="threads"):
        main(["bench", "train", "--threads", "0"])


def test_records_table_has_one_row_per_record_and_dashes_for_missing_fields(tmp_path):
    out = bench.benchmark(TINY, 2, 2, steps=1, repeats=1, device=torch.device("cpu"), options=StepOptions())
    (tmp_path / "new.json").write_text(json.dumps(out, default=str))
    old = {k: out[k] for k in ("device", "device_name", "threads", "n_models", "depth", "width", "seq_len", "batch",
                               "options", "step_seconds", "efficiency")}
    old["options"] = {"autocast": "bfloat16", "compile": True, "cuda_graphs": False, "fused_adamw": True}
    (tmp_path / "old.json").write_text(json.dumps(old))
    lines = bench.records_markdown(tmp_path).splitlines()
    assert len(lines) == 4 and lines[2].startswith("| `new`") and lines[3].startswith("| `old`")
    new_cells = [c.strip() for c in lines[2].split("|")[1:-1]]
    assert new_cells[3] == "float32, eager"
    assert new_cells[5] == f"{100 * out['efficiency']:.1f} % ({100 * out['efficiency_ceiling']:.1f} %)"
    assert new_cells[8] == f"{out['over_plain_layout']:.2f}×"
    old_cells = [c.strip() for c in lines[3].split("|")[1:-1]]
    assert old_cells[3] == "bfloat16 autocast, compile, fused AdamW"
    assert old_cells[5] == f"{100 * out['efficiency']:.1f} %" and old_cells[6:] == ["–"] * 4
    assert "No bench records" in bench.records_markdown(tmp_path / "empty")
