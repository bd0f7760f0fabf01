"""Training benchmark: the batched step against a one-model loop and against the matmul roofline.

``python -m rgnb bench train`` prints, in one run on one device:

- achieved GFLOP/s (TFLOP/s on a GPU) of the batched ensemble step and of the one-model-at-a-time
  loop doing the same work, and their ratio (the batched speed-up);
- the same machine's matmul rate for the model's own token- and channel-MLP product shapes,
  timed in isolation (``torch.bmm``, forward + the two backward products), and for a large square
  matmul;
- the efficiency: (time the model's MLP products need at their isolated rate, forward + backward)
  / (measured batched step time), i.e. the share of a step that is irreducible matrix work;
- the step's *kernel floor*: the products plus the model's GELUs and LayerNorms (forward + backward,
  the kernels autograd calls), each timed alone at the model's shapes, and what it bounds: the
  efficiency ceiling (products / floor: the best efficiency any step built on these kernels can
  reach) and the speed-up ceiling (one-model loop / floor);
- the batched step of the layout before issue 12 (:func:`plain_layout_forward`: stream
  (M, N, T, d), token mixing through transpose copies) on the same batches, and the ratio;
- with ``--profile full`` (or ``--project``): the projected training wall time of the profile's sweep.

FLOPs count 2 per multiply-add of the matrix products (``ModelConfig.flops_per_sequence``), times 3
for forward + backward. Data sampling is drawn beforehand and not timed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from rgnb import chains
from rgnb.mlp import model
from rgnb.profiles import resolve_device
from rgnb.provenance import cpu_model, device_name
from rgnb.mlp.step import StepOptions, make_optimizer, train_step
from rgnb.validate import check_choice, check_int

#: Nominal dense bf16 tensor-core peaks (FLOP/s) of GPUs the book may run on (vendor data sheets, SXM).
BF16_PEAK = {"H100": 989.4e12, "H200": 989.4e12, "A100": 312e12}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


#: Clock of the timings: ``"wall"`` (``time.perf_counter``) or ``"cpu"`` (``time.process_time``: the
#: CPU time of this process, robust to other processes on a shared machine; 1 thread only).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = CLOCKS["wall"]


def _median_seconds(fn: Callable[[], Any], repeats: int, device: torch.device, inner: int = 1) -> float:
    """Median over ``repeats`` of the time of ``inner`` calls of ``fn``, per call (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = _clock()
        for _ in range(inner):
            fn()
        _sync(device)
        times.append((_clock() - t0) / inner)
    return statistics.median(times)


def mlp_product_shapes(mcfg: model.ModelConfig, n_models: int, batch: int) -> list[tuple[int, int, int, int]]:
    """The (M, m, k, n) forward products ``(m x k) @ (k x n)`` of one block in the position-major layout.

    Token MLP: ``W1^T (Ht x T) @ y (T x B d)`` and ``W2^T (T x Ht) @ z (Ht x B d)``; channel MLP:
    ``y (T B x d) @ W1 (d x Hc)`` and ``z (T B x Hc) @ W2 (Hc x d)``.
    """
    T, d, Ht, Hc = mcfg.seq_len, mcfg.width, mcfg.token_hidden, mcfg.channel_hidden
    return [(n_models, Ht, T, batch * d), (n_models, T, Ht, batch * d),
            (n_models, T * batch, d, Hc), (n_models, T * batch, Hc, d)]


def isolated_mlp_seconds(mcfg: model.ModelConfig, n_models: int, batch: int, device: torch.device,
                         dtype: torch.dtype = torch.float32, repeats: int = 5) -> tuple[float, float]:
    """Seconds of the MLP products of one training step (all blocks), forward + backward, in isolation.

    Each forward product ``C = A B`` is timed with its two backward products ``dA = dC B^T`` and
    ``dB = A^T dC`` (transposes as strided views, as autograd passes them). Returns (seconds, FLOPs).
    """
    gen = torch.Generator(device=device).manual_seed(0)
    total, flops = 0.0, 0.0
    for M, m, k, n in mlp_product_shapes(mcfg, n_models, batch):
        a = torch.randn(M, m, k, generator=gen, device=device, dtype=dtype)
        b = torch.randn(M, k, n, generator=gen, device=device, dtype=dtype)
        g = torch.randn(M, m, n, generator=gen, device=device, dtype=dtype)

        def products() -> None:
            torch.bmm(a, b)
            torch.bmm(g, b.transpose(1, 2))
            torch.bmm(a.transpose(1, 2), g)

        total += _median_seconds(products, repeats, device, inner=20 if device.type == "cuda" else 1)
        flops += 3 * 2.0 * M * m * k * n
    return total * mcfg.depth, flops * mcfg.depth


def isolated_nonlinearity_seconds(mcfg: model.ModelConfig, n_models: int, batch: int, device: torch.device,
                                  dtype: torch.dtype = torch.float32, repeats: int = 5) -> dict[str, float]:
    """Seconds of the GELUs and LayerNorms of one training step (all blocks), forward + backward, in isolation.

    The kernels autograd runs: ``gelu`` + ``gelu_backward`` on the two hidden tensors of a block,
    (M, Ht, B d) and (M, T B, Hc); ``native_layer_norm`` + its backward over d of the (M, T, B, d)
    stream, twice per block and once before the unembedding (none without LayerNorm). Returns
    ``{"gelu": s, "layer_norm": s}``.
    """
    gen = torch.Generator(device=device).manual_seed(0)
    T, d, Ht, Hc = mcfg.seq_len, mcfg.width, mcfg.token_hidden, mcfg.channel_hidden
    inner = 20 if device.type == "cuda" else 1

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, device=device, dtype=dtype)

    gelu = 0.0
    for shape in ((n_models, Ht, batch * d), (n_models, T * batch, Hc)):
        x, g = randn(*shape), randn(*shape)
        gelu += _median_seconds(lambda: (F.gelu(x), torch.ops.aten.gelu_backward(g, x)), repeats, device, inner)
    out = {"gelu": gelu * mcfg.depth, "layer_norm": 0.0}
    if mcfg.layer_norm:
        x, g = randn(n_models, T, batch, d), randn(n_models, T, batch, d)

        def layer_norm() -> None:
            _, mean, rstd = torch.native_layer_norm(x, [d], None, None, model.LN_EPS)
            torch.ops.aten.native_layer_norm_backward(g, x, [d], mean, rstd, None, None, [True, False, False])

        out["layer_norm"] = _median_seconds(layer_norm, repeats, device, inner) * (2 * mcfg.depth + 1)
    return out


def square_matmul_rate(device: torch.device, dtype: torch.dtype = torch.float32, size: int | None = None,
                       repeats: int = 5) -> tuple[int, float]:
    """FLOP/s of a large square matmul (``size`` default 2048 on the CPU, 8192 on a GPU). Returns (size, rate)."""
    size = size or (8192 if device.type == "cuda" else 2048)
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, generator=gen, device=device, dtype=dtype)
    b = torch.randn(size, size, generator=gen, device=device, dtype=dtype)
    sec = _median_seconds(lambda: a @ b, repeats, device, inner=10 if device.type == "cuda" else 1)
    return size, 2.0 * size ** 3 / sec


def _bench_batches(config, n_models: int, steps: int, device: torch.device):
    """Pre-drawn masked batches, each (steps, n_models, batch, T): inputs, targets, mask."""
    gen = torch.Generator(device=device).manual_seed(0)
    P = chains.make_chain(config.kind, config.vocab_size, 4.0)
    n = n_models * steps * config.batch_size
    tokens = chains.sample_chain(P, n, config.seq_len, generator=gen, device=device)
    mask = chains.sample_mask(n, config.seq_len, config.mask, generator=gen, device=device)
    inputs = chains.apply_mask(tokens, mask, config.vocab_size)
    shape = (steps, n_models, config.batch_size, config.seq_len)
    return inputs.view(shape), tokens.view(shape), mask.view(shape)


def plain_layout_forward(params: dict[str, torch.Tensor], tokens: torch.Tensor, return_streams: bool = False):
    """The forward pass as it was before issue 12: the baseline of the bench (and of ``tests/test_step.py``).

    Stream held (M, N, T, d); token mixing through a transpose copy into (M, N d, T) and back;
    every LayerNorm's gain/shift applied explicitly. Same function as :func:`rgnb.mlp.model.forward` (mixer
    with LayerNorm only). ``tokens`` (M, N, T) int64; returns logits (M, N, T, V), with
    ``return_streams`` also the streams (M, L + 1, N, T, d).
    """
    emb = params["tok_emb"]
    M, vocab_in, d = emb.shape
    L = model.depth_of(params)
    N, T = tokens.shape[1], tokens.shape[2]

    def layer_norm(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(h, (d,), eps=model.LN_EPS) * w[:, None, None, :] + b[:, None, None, :]

    onehot = F.one_hot(tokens.reshape(M, N * T), vocab_in).to(emb.dtype)
    h = torch.bmm(onehot, emb).reshape(M, N, T, d) + params["pos_emb"][:, None]
    streams = [h]
    for l in range(L):
        y = layer_norm(h, params["ln1_w"][:, l], params["ln1_b"][:, l]).transpose(2, 3).reshape(M, N * d, T)
        z = F.gelu(torch.baddbmm(params["tok_b1"][:, l, None, :], y, params["tok_w1"][:, l]))
        z = torch.baddbmm(params["tok_b2"][:, l, None, :], z, params["tok_w2"][:, l])
        h = h + z.reshape(M, N, d, T).transpose(2, 3)
        y = layer_norm(h, params["ln2_w"][:, l], params["ln2_b"][:, l]).reshape(M, N * T, d)
        z = F.gelu(torch.baddbmm(params["ch_b1"][:, l, None, :], y, params["ch_w1"][:, l]))
        z = torch.baddbmm(params["ch_b2"][:, l, None, :], z, params["ch_w2"][:, l])
        h = h + z.reshape(M, N, T, d)
        streams.append(h)
    y = layer_norm(h, params["lnf_w"], params["lnf_b"]).reshape(M, N * T, d)
    logits = torch.baddbmm(params["out_b"][:, None, :], y, params["out_w"]).reshape(M, N, T, -1)
    return (logits, torch.stack(streams, dim=1)) if return_streams else logits


def plain_layout_step(params: dict[str, torch.Tensor], opt: torch.optim.Optimizer, inputs: torch.Tensor,
                      targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One float32 AdamW step as :func:`rgnb.mlp.step.train_step`, through :func:`plain_layout_forward`."""
    loss_sum, count = model.masked_losses(plain_layout_forward(params, inputs), targets, mask)
    per_model = loss_sum / count
    opt.zero_grad(set_to_none=True)
    per_model.sum().backward()
    opt.step()
    return per_model.detach()


def _fresh(mcfg, seeds, config, device, options: StepOptions):
    params = model.init_params(mcfg, list(seeds), device)
    for p in params.values():
        p.requires_grad_(True)
    return params, make_optimizer(params, config, fused=options.fused_adamw)


def step_seconds(config, n_models: int, depth: int, steps: int, repeats: int, device: torch.device,
                 options: StepOptions, loop: bool = True, baseline: bool = True) -> dict[str, float]:
    """Median seconds per training step of ``n_models`` models: batched, (``loop``) one model at a time,
    and (``baseline``, mixer with LayerNorm only) batched in the pre-issue-12 layout (``"plain"``).

    All run on the same pre-drawn batches from the same initial weights (:func:`rgnb.mlp.step.train_step`;
    the baseline :func:`plain_layout_step`, float32 eager); a first pass (compilation, allocator
    warm-up) is not timed.
    """
    mcfg = config.model_config(depth)
    inputs, targets, mask = _bench_batches(config, n_models, steps, device)
    out: dict[str, float] = {}

    params, opt = _fresh(mcfg, range(n_models), config, device, options)

    def batched() -> None:
        for k in range(steps):
            train_step(params, opt, inputs[k], targets[k], mask[k], options)

    out["batched"] = _median_seconds(batched, repeats, device) / steps
    if baseline and mcfg.layer_norm:
        plain, plain_opt = _fresh(mcfg, range(n_models), config, device, options)

        def plain_batched() -> None:
            for k in range(steps):
                plain_layout_step(plain, plain_opt, inputs[k], targets[k], mask[k])

        out["plain"] = _median_seconds(plain_batched, repeats, device) / steps
    if loop:
        singles = [_fresh(mcfg, [m], config, device, options) for m in range(n_models)]

        def looped() -> None:
            for m, (p, o) in enumerate(singles):
                for k in range(steps):
                    train_step(p, o, inputs[k, m:m + 1], targets[k, m:m + 1], mask[k, m:m + 1], options)

        out["loop"] = _median_seconds(looped, repeats, device) / steps
    return out


def benchmark(config, n_models: int, depth: int, steps: int, repeats: int, device: torch.device,
              options: StepOptions | None = None, loop: bool = True, baseline: bool = True) -> dict[str, Any]:
    """Every number the bench prints (see the module docstring), as a dict."""
    options = StepOptions.for_device(device) if options is None else options
    mcfg = config.model_config(depth)
    sec = step_seconds(config, n_models, depth, steps, repeats, device, options, loop=loop, baseline=baseline)
    step_flops = 3.0 * mcfg.flops_per_sequence() * config.batch_size * n_models
    mm_dtype = torch.bfloat16 if options.autocast == "bfloat16" else torch.float32
    iso_s, iso_flops = isolated_mlp_seconds(mcfg, n_models, config.batch_size, device, mm_dtype)
    nonlinear = isolated_nonlinearity_seconds(mcfg, n_models, config.batch_size, device, mm_dtype)
    floor = iso_s + sum(nonlinear.values())
    size, square = square_matmul_rate(device, mm_dtype)
    out = {"device": str(device), "device_name": device_name(device), "n_models": n_models,
           "cpu_model": cpu_model() if device.type == "cpu" else None,
           "depth": depth, "width": config.width, "seq_len": config.seq_len, "batch": config.batch_size,
           "threads": torch.get_num_threads(), "options": dataclasses.asdict(options),
           "step_seconds": sec, "step_flops": step_flops,
           "flops_per_s": {k: step_flops / v for k, v in sec.items()},
           "mlp_isolated_seconds": iso_s, "mlp_isolated_flops_per_s": iso_flops / iso_s,
           "square_matmul": {"size": size, "dtype": str(mm_dtype), "flops_per_s": square},
           "efficiency": iso_s / sec["batched"],
           "of_square_matmul": step_flops / sec["batched"] / square,
           "nonlinearity_isolated_seconds": nonlinear, "kernel_floor_seconds": floor,
           "of_kernel_floor": floor / sec["batched"], "efficiency_ceiling": iso_s / floor}
    if loop:
        out["speedup"] = sec["loop"] / sec["batched"]
        out["speedup_ceiling"] = sec["loop"] / floor
    if "plain" in sec:
        out["over_plain_layout"] = sec["plain"] / sec["batched"]
    peak = next((v for k, v in BF16_PEAK.items() if k in out["device_name"]), None)
    if device.type == "cuda" and peak is not None and options.autocast == "bfloat16":
        out["of_bf16_peak"] = out["flops_per_s"]["batched"] / peak
    return out


def project_sweep(config, depth: int, step_s: float) -> dict[str, Any]:
    """Projected training wall time of ``config``'s sweep from one measured depth group's step time.

    Every depth group has ``len(xis) * len(seeds)`` models; a group's step time is scaled from the
    measured one by its depth (the blocks dominate a step). Excludes evaluation and stream recording.
    """
    per_group = {L: step_s * L / depth for L in config.depths}
    return {"per_step_s": per_group, "steps": config.steps,
            "seconds": config.steps * sum(per_group.values())}


def project_profile_cpu(profile: str, out: dict[str, Any], cores: int | None = None) -> dict[str, Any]:
    """Projected wall time (hours) to train every sweep of ``profile`` on ``cores`` CPU cores (default:
    this machine's), one single-threaded process per core, from a bench result ``out`` of that profile's
    shapes: its measured batched step, and the pre-issue-12 layout's (``"plain"``) where measured.

    Per-network step time = step time / models, scaled to depth 8 and batch 64
    (:func:`rgnb.mlp.sweeps.cpu_training_estimate_h`, linear in both). Every family is charged the measured
    architecture's time (the no-LayerNorm sweeps' steps are a little cheaper).
    """
    from rgnb.mlp.sweeps import cpu_training_estimate_h

    cores = cores or os.cpu_count() or 1
    hours = {}
    for name in ("batched", "plain"):
        if name in out["step_seconds"]:
            ms = out["step_seconds"][name] * 1e3 / out["n_models"] * 8 / out["depth"] * 64 / out["batch"]
            hours[name] = cpu_training_estimate_h(profile, cores, ms_per_model_step=ms)
    return {"profile": profile, "cores": cores, "hours": hours}


#: Where the bench records shown in the book's appendix are kept (``--json`` output, one file per run).
RECORDS_DIR = Path(__file__).resolve().parents[1] / "results" / "bench"


def _options_text(options: dict[str, Any]) -> str:
    """``StepOptions`` as words: ``"float32, eager"``, ``"bfloat16 autocast, compile, fused AdamW"``."""
    parts = [f"{options['autocast']} autocast" if options.get("autocast") else "float32",
             "compile" if options.get("compile") else "eager"]
    parts += [text for name, text in (("cuda_graphs", "CUDA graphs"), ("fused_adamw", "fused AdamW")) if options.get(name)]
    return ", ".join(parts)


def records_markdown(directory: Path | str = RECORDS_DIR) -> str:
    """A Markdown table of the bench records (``*.json`` written by ``--json``) in ``directory``.

    One row per record: device, clock and threads, shapes, options, batched step time, efficiency,
    its ceiling on the step's kernels, the share of the step those kernels take, the speed-up over
    the one-model loop with its ceiling, the gain over the pre-issue-12 layout and the share of the
    nominal bf16 peak; "–" where a record did not measure it (records older than a column).
    """
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        return "*No bench records stored (`python -m rgnb bench train --json results/bench/NAME.json`).*"

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f} %"

    rows = ["| record | device, clock | M × depth, width, T, batch | options | step | efficiency (ceiling) "
            "| kernels / step | × loop (ceiling) | × pre-issue-12 | of bf16 peak |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        r = json.loads(path.read_text())
        device = (f"{r['cpu_model']}, {r['device_name'].split(', ')[-1].rstrip(')')}" if r.get("cpu_model")
                  else r["device_name"])
        if r["device"] == "cpu":
            device += f", {r['threads']} thread{'s' if r['threads'] > 1 else ''}"
        device += f", {r.get('clock', 'wall')} time"
        efficiency = pct(r["efficiency"]) + (f" ({pct(r['efficiency_ceiling'])})" if "efficiency_ceiling" in r else "")
        loop = "–" if "speedup" not in r else f"{r['speedup']:.2f}×" + (
            f" ({r['speedup_ceiling']:.2f}×)" if "speedup_ceiling" in r else "")
        plain = f"{r['over_plain_layout']:.2f}×" if "over_plain_layout" in r else "–"
        rows.append(f"| `{path.stem}` | {device} | {r['n_models']} × {r['depth']}, {r['width']}, {r['seq_len']}, "
                    f"{r['batch']} | {_options_text(r['options'])} | {r['step_seconds']['batched'] * 1e3:.1f} ms "
                    f"| {efficiency} | {pct(r.get('of_kernel_floor'))} | {loop} | {plain} | {pct(r.get('of_bf16_peak'))} |")
    return "\n".join(rows)


def _rate(x: float, gpu: bool) -> str:
    return f"{x / 1e12:.2f} TFLOP/s" if gpu else f"{x / 1e9:.1f} GFLOP/s"


def report(out: dict[str, Any]) -> str:
    """The bench's printout."""
    gpu = out["device"].startswith("cuda")
    lines = [f"[bench train] device {out['device']} ({out['device_name']}), {out['threads']} threads, "
             f"{out.get('clock', 'wall')} clock; "
             f"{out['n_models']} models of depth {out['depth']}, width {out['width']}, T {out['seq_len']}, "
             f"batch {out['batch']}; options {out['options']}"]
    for name, s in out["step_seconds"].items():
        lines.append(f"  {name:8s} step: {s * 1e3:9.2f} ms  {_rate(out['flops_per_s'][name], gpu)}")
    sq = out["square_matmul"]
    lines.append(f"  MLP products alone (bmm, fwd+bwd): {out['mlp_isolated_seconds'] * 1e3:.2f} ms per step "
                 f"at {_rate(out['mlp_isolated_flops_per_s'], gpu)}")
    lines.append(f"  square matmul {sq['size']}^2 {sq['dtype']}: {_rate(sq['flops_per_s'], gpu)}")
    lines.append(f"  efficiency (isolated MLP products / step): {100 * out['efficiency']:.1f} %")
    lines.append(f"  step rate / square-matmul rate: {100 * out['of_square_matmul']:.1f} %")
    nl = out["nonlinearity_isolated_seconds"]
    lines.append(f"  GELU alone (fwd+bwd): {nl['gelu'] * 1e3:.2f} ms; LayerNorm alone (fwd+bwd): "
                 f"{nl['layer_norm'] * 1e3:.2f} ms per step")
    lines.append(f"  kernel floor (products + GELU + LayerNorm, each alone): {out['kernel_floor_seconds'] * 1e3:.2f} ms"
                 f" = {100 * out['of_kernel_floor']:.1f} % of the step")
    lines.append(f"  efficiency ceiling on these kernels (products / floor): {100 * out['efficiency_ceiling']:.1f} %")
    if "speedup" in out:
        lines.append(f"  batched speed-up over the one-model loop: {out['speedup']:.2f}x "
                     f"(ceiling on these kernels, loop / floor: {out['speedup_ceiling']:.2f}x)")
    if "over_plain_layout" in out:
        lines.append(f"  batched step vs the pre-issue-12 layout (float32 eager), same batches: "
                     f"{out['over_plain_layout']:.2f}x faster")
    if "of_bf16_peak" in out:
        lines.append(f"  of the nominal bf16 peak: {100 * out['of_bf16_peak']:.1f} %")
    if "projection" in out:
        p = out["projection"]
        lines.append(f"  projected training time of the sweep ({p['steps']} steps, depths "
                     f"{sorted(p['per_step_s'])}): {p['seconds'] / 60:.1f} min")
    if "profile_projection" in out:
        p = out["profile_projection"]
        text = "; ".join(f"{'pre-issue-12 layout' if k == 'plain' else 'this step'} {v:.2f} h" for k, v in p["hours"].items())
        lines.append(f"  projected training time of every {p['profile']} sweep on {p['cores']} cores "
                     f"(one process per core): {text}")
    return "\n".join(lines)


def benchmark_main(argv: list[str]) -> int:
    """``python -m rgnb bench train [--profile smoke] [--models N] [--depth L] [--steps 10] [--repeats 3] ...``."""
    from rgnb.mlp.sweeps import sweep_for

    parser = argparse.ArgumentParser(prog="python -m rgnb bench train", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="smoke", choices=["smoke", "reference", "full", "auto"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", type=int, default=None, help="models (default: one depth group of the sweep)")
    parser.add_argument("--depth", type=int, default=None, help="depth (default: the sweep's deepest)")
    parser.add_argument("--width", type=int, default=None, help="override the sweep's width")
    parser.add_argument("--seq-len", type=int, default=None, help="override the sweep's T")
    parser.add_argument("--batch", type=int, default=None, help="override the sweep's batch size")
    parser.add_argument("--channel-mult", type=int, default=None, help="override the sweep's channel MLP multiple")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: rgnb.mlp.step.choose_threads)")
    parser.add_argument("--no-loop", action="store_true", help="skip the one-model loop")
    parser.add_argument("--no-baseline", action="store_true", help="skip the pre-issue-12 layout")
    parser.add_argument("--project", action="store_true", help="project the sweep's wall time (on with full)")
    parser.add_argument("--autocast", default=None, choices=["none", "bfloat16", "float16"])
    parser.add_argument("--compile", default=None, choices=["on", "off"])
    parser.add_argument("--cuda-graphs", default=None, choices=["on", "off"])
    parser.add_argument("--json", default=None, help="also write every number to this JSON file")
    parser.add_argument("--clock", default="wall", choices=sorted(CLOCKS),
                        help="wall time, or this process's CPU time (CPU, 1 thread: robust on a shared machine)")
    args = parser.parse_args(argv)
    from rgnb.mlp.step import choose_threads

    torch.set_num_threads(check_int("threads", args.threads, 1) if args.threads is not None else choose_threads())
    config = sweep_for(args.profile)
    overrides = {k: v for k, v in (("width", args.width), ("seq_len", args.seq_len), ("batch_size", args.batch),
                                   ("channel_mult", args.channel_mult)) if v is not None}
    if overrides:
        config = dataclasses.replace(config, **overrides)
    device = resolve_device(args.device)
    options = StepOptions.for_device(device)
    if args.autocast is not None:
        options = dataclasses.replace(options, autocast=None if args.autocast == "none" else args.autocast)
    if args.compile is not None:
        options = dataclasses.replace(options, compile=args.compile == "on",
                                      cuda_graphs=options.cuda_graphs and args.compile == "on")
    if args.cuda_graphs is not None:
        options = dataclasses.replace(options, cuda_graphs=args.cuda_graphs == "on")
    options = StepOptions(**dataclasses.asdict(options))  # re-validate the combination
    n_models = check_int("models", args.models, 1) if args.models is not None else len(config.xis) * len(config.seeds)
    depth = check_int("depth", args.depth, 1) if args.depth is not None else max(config.depths)
    check_int("steps", args.steps, 1)
    check_int("repeats", args.repeats, 1)
    check_choice("profile", args.profile, ["smoke", "reference", "full", "auto"])
    if args.clock == "cpu" and (device.type != "cpu" or torch.get_num_threads() != 1):
        raise ValueError("clock 'cpu' needs device cpu and threads 1 (CPU time sums over threads)")
    global _clock
    _clock = CLOCKS[args.clock]
    try:
        out = benchmark(config, n_models, depth, args.steps, args.repeats, device, options, loop=not args.no_loop,
                        baseline=not args.no_baseline)
    finally:
        _clock = CLOCKS["wall"]
    out["clock"] = args.clock
    if args.project or args.profile == "full":
        out["projection"] = project_sweep(config, depth, out["step_seconds"]["batched"])
        if device.type == "cpu" and not overrides:
            out["profile_projection"] = project_profile_cpu(args.profile, out)
    print(report(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, sort_keys=True, default=str) + "\n")
    return 0
