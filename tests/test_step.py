"""Tests of rgnb.mlp.step: the position-major step equals the pre-issue-12 forward/backward, options, threads."""

import math

import pytest
import torch

from rgnb.mlp import bench, model, step
from rgnb.mlp.sweeps import SweepConfig


def reference_forward(params: dict[str, torch.Tensor], tokens: torch.Tensor, return_streams: bool = False):
    """The forward pass as it was before issue 12 (``rgnb.mlp.bench.plain_layout_forward``, the bench's
    baseline: stream (M, N, T, d), transpose copies, explicit LayerNorm affine), the reference of the
    numerics; ``tokens`` (M, N, T) or a shared (N, T)."""
    if tokens.ndim == 2:
        tokens = tokens.unsqueeze(0).expand(params["tok_emb"].shape[0], -1, -1)
    return bench.plain_layout_forward(params, tokens, return_streams)


def reference_loss(params, inputs, targets, mask):
    loss_sum, count = model.masked_losses(reference_forward(params, inputs), targets, mask)
    return loss_sum / count


CFG = model.ModelConfig(vocab_size=8, seq_len=12, width=16, depth=3, token_mult=2, channel_mult=2)
HP = SweepConfig()


def _params(seeds=(0, 1, 2), perturb=True):
    """Initial parameters with LayerNorm gains/shifts and biases moved off 1/0 (so folding them matters)."""
    p = model.init_params(CFG, list(seeds))
    if perturb:
        gen = torch.Generator().manual_seed(5)
        for k in ("ln1_w", "ln1_b", "ln2_w", "ln2_b", "lnf_w", "lnf_b", "tok_b1", "tok_b2", "ch_b1", "ch_b2",
                  "out_b"):
            p[k] = p[k] + 0.3 * torch.randn(p[k].shape, generator=gen)
    return p


def _batch(M=3, B=10, seed=1):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, CFG.vocab_size + 1, (M, B, CFG.seq_len), generator=gen)
    targets = torch.randint(0, CFG.vocab_size, (M, B, CFG.seq_len), generator=gen)
    mask = torch.rand(M, B, CFG.seq_len, generator=gen) < 0.4
    mask[:, :, 0] = True
    return inputs, targets, mask


def _loss_and_grads(loss_fn, params, *batch):
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    loss = loss_fn(p, *batch)
    loss.sum().backward()
    return loss.detach(), {k: v.grad for k, v in p.items()}


def _assert_grads_close(got, want, rtol):
    """Every gradient within ``rtol`` of the largest gradient entry of the whole model (the scale)."""
    scale = max(float(g.abs().max()) for g in want.values())
    for k in want:
        err = float((got[k] - want[k]).abs().max())
        assert err <= rtol * scale, f"{k}: max |diff| {err:.3g} > {rtol:g} x {scale:.3g}"


def test_forward_and_streams_equal_the_reference_forward():
    params = _params()
    inputs, _, _ = _batch()
    want_logits, want_streams = reference_forward(params, inputs, return_streams=True)
    logits, streams = model.forward(params, inputs, return_streams=True)
    assert logits.shape == want_logits.shape and streams.shape == want_streams.shape
    torch.testing.assert_close(logits, want_logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(streams, want_streams, rtol=1e-5, atol=1e-5)
    shared = inputs[0]  # an (N, T) batch shared by every model
    torch.testing.assert_close(model.forward(params, shared), reference_forward(params, shared), rtol=1e-5, atol=1e-5)


def test_float32_step_gradients_equal_the_reference_to_1e5():
    params = _params()
    batch = _batch()
    want_loss, want = _loss_and_grads(reference_loss, params, *batch)
    loss, got = _loss_and_grads(step.per_model_loss, params, *batch)
    torch.testing.assert_close(loss, want_loss, rtol=1e-5, atol=1e-6)
    _assert_grads_close(got, want, 1e-5)
    # the check has teeth: the gradient of another batch is far off
    _, other = _loss_and_grads(reference_loss, params, *_batch(seed=2))
    with pytest.raises(AssertionError):
        _assert_grads_close(other, want, 1e-5)


def test_train_steps_follow_the_reference_trajectory():
    """Five AdamW steps through train_step equal five reference steps (float32, CPU).

    ``tok_b2`` is left out: it shifts each position's stream by the same amount in every channel,
    which every LayerNorm removes, so its gradient is exactly zero and what Adam makes of it is
    round-off in either implementation (it never reaches the loss; centred statistics ignore it).
    """
    p_ref = {k: v.clone().requires_grad_(True) for k, v in _params(perturb=False).items()}
    p_new = {k: v.clone().requires_grad_(True) for k, v in _params(perturb=False).items()}
    opt_ref, opt_new = step.make_optimizer(p_ref, HP), step.make_optimizer(p_new, HP)
    for k in range(5):
        batch = _batch(seed=10 + k)
        loss_ref = reference_loss(p_ref, *batch)
        opt_ref.zero_grad(set_to_none=True)
        loss_ref.sum().backward()
        opt_ref.step()
        loss_new = step.train_step(p_new, opt_new, *batch)
        torch.testing.assert_close(loss_new, loss_ref.detach(), rtol=1e-5, atol=1e-5)
    for k in p_ref:
        if k != "tok_b2":
            torch.testing.assert_close(p_new[k], p_ref[k], rtol=1e-4, atol=1e-5)
    assert float(p_ref["tok_b2"].grad.abs().max()) < 1e-6


def test_train_step_is_importable_from_train():
    from rgnb.mlp import train
    assert train.train_step is step.train_step


def test_optimizer_decays_matrices_only():
    params = _params(perturb=False)
    opt = step.make_optimizer(params, HP)
    decayed, rest = opt.param_groups
    assert decayed["weight_decay"] == HP.weight_decay and rest["weight_decay"] == 0.0
    assert {id(p) for p in decayed["params"]} == {id(params[k]) for k in step.DECAYED}
    assert len(rest["params"]) == len(model.PARAM_NAMES) - len(step.DECAYED)
    assert opt.defaults["lr"] == HP.lr and opt.defaults["betas"] == (HP.beta1, HP.beta2)
    assert opt.defaults["foreach"] and not opt.defaults["fused"]


def test_bf16_autocast_runs_on_cpu_and_matches_float32():
    """bf16 autocast (float32 master weights and loss): loss within 2e-2 nats, gradients within 5 % of scale."""
    params = _params()
    batch = _batch()
    want_loss, want = _loss_and_grads(step.per_model_loss, params, *batch)
    loss, got = _loss_and_grads(lambda p, *b: step.per_model_loss(p, *b, autocast="bfloat16"), params, *batch)
    assert loss.dtype == torch.float32
    assert all(g.dtype == torch.float32 for g in got.values())
    assert float((loss - want_loss).abs().max()) < 2e-2
    _assert_grads_close(got, want, 5e-2)
    assert not torch.equal(loss, want_loss)  # it did run in bf16


def test_options_defaults_and_validation():
    assert step.StepOptions.for_device("cpu") == step.StepOptions()
    cuda = step.StepOptions.for_device("cuda")
    assert cuda.autocast == "bfloat16" and cuda.compile and cuda.fused_adamw and not cuda.cuda_graphs
    with pytest.raises(ValueError, match="autocast"):
        step.StepOptions(autocast="float64")
    with pytest.raises(ValueError, match="cuda_graphs"):
        step.StepOptions(cuda_graphs=True)


def test_training_threads_sets_and_restores_the_cpu_count(monkeypatch):
    monkeypatch.setenv(step.THREADS_ENV, "1")
    original = torch.get_num_threads()
    torch.set_num_threads(2)  # a count the override differs from, whatever the environment's default
    try:
        with step.training_threads("cpu") as n:
            assert n == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError, match="inside"):
            with step.training_threads("cpu"):
                raise RuntimeError("inside")
        assert torch.get_num_threads() == 2
        with step.training_threads("cuda") as n:  # a GPU run leaves the CPU threads alone
            assert n == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(original)


def test_choose_threads_honours_the_override(monkeypatch):
    monkeypatch.setenv(step.THREADS_ENV, "3")
    assert step.choose_threads(cpu_count=2, load=5.0) == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(step.THREADS_ENV, bad)
        with pytest.raises(ValueError, match=step.THREADS_ENV):
            step.choose_threads()
    monkeypatch.delenv(step.THREADS_ENV)
    assert step.choose_threads(cpu_count=2, load=0.1) == 2     # idle machine: every core
    assert step.choose_threads(cpu_count=2, load=1.0) == 1     # one core busy: never share it
    assert step.choose_threads(cpu_count=2, load=0.6) == 1     # mostly busy counts as busy
    assert step.choose_threads(cpu_count=2, load=6.0) == 1     # overloaded: still one thread
    assert step.choose_threads(cpu_count=16, load=3.4) == 13


def test_compile_failure_falls_back_to_eager(monkeypatch):
    """A compiler error warns once and the step runs eager with the float32 numerics."""
    def broken(fn, **kwargs):
        def call(*args, **kw):
            raise RuntimeError("no compiler here")
        return call
    monkeypatch.setattr(step.torch, "compile", broken)
    monkeypatch.setattr(step, "_COMPILED", {})
    options = step.StepOptions(compile=True)
    params = {k: v.clone().requires_grad_(True) for k, v in _params(perturb=False).items()}
    batch = _batch()
    with pytest.warns(RuntimeWarning, match="no compiler here"):
        loss = step.train_step(params, step.make_optimizer(params, HP), *batch, options=options)
    torch.testing.assert_close(loss, reference_loss(_params(perturb=False), *batch).detach(), rtol=1e-5, atol=1e-6)
    step.train_step(params, step.make_optimizer(params, HP), *batch, options=options)  # no second warning


def _train_tiny(autocast, steps=150, M=2, B=32):
    """Train M tiny models on a Potts chain (xi = 2) with the step's options; held-out loss per model."""
    from rgnb import chains
    from rgnb.mlp import train
    cfg = model.ModelConfig(vocab_size=4, seq_len=8, width=16, depth=2, token_mult=2, channel_mult=2)
    hp = SweepConfig(lr=1e-2, steps=steps, warmup=15)
    P = chains.make_chain("potts", 4, 2.0)
    gen = torch.Generator().manual_seed(7)
    tokens = chains.sample_chain(P, steps * M * B + 512, 8, generator=gen)
    mask = chains.sample_mask(steps * M * B + 512, 8, generator=gen)
    inputs = chains.apply_mask(tokens, mask, 4)
    params = model.init_params(cfg, list(range(M)))
    for p in params.values():
        p.requires_grad_(True)
    opt = step.make_optimizer(params, hp)
    options = step.StepOptions(autocast=autocast)
    for k in range(steps):
        for g in opt.param_groups:
            g["lr"] = hp.lr * train.lr_factor(k, hp.warmup, steps, hp.min_lr_frac)
        sl = slice(k * M * B, (k + 1) * M * B)
        step.train_step(params, opt, inputs[sl].view(M, B, 8), tokens[sl].view(M, B, 8), mask[sl].view(M, B, 8),
                        options)
    with torch.no_grad():
        s, c = model.masked_losses(model.forward(params, inputs[-512:]), tokens[-512:], mask[-512:])
    return s / c


def test_bf16_training_reaches_the_float32_loss():
    """150 steps of bf16-autocast training end within 0.005 nats per masked token of float32 training
    (same seeds and batches), and both have learnt (loss well below the context-free ln V)."""
    f32 = _train_tiny(None)
    bf16 = _train_tiny("bfloat16")
    assert float((bf16 - f32).abs().max()) < 5e-3  # measured 5e-5
    assert float(f32.max()) < math.log(4) - 0.1


def test_compile_failure_in_the_backward_falls_back_to_eager(monkeypatch):
    """The compiled backward is built on its first call: a failure there also falls back (no double update)."""
    class Broken(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("backward compiler failed")

    monkeypatch.setattr(step.torch, "compile", lambda fn, **kw: (lambda *a: Broken.apply(fn(*a))))
    monkeypatch.setattr(step, "_COMPILED", {})
    p_ref = {k: v.clone().requires_grad_(True) for k, v in _params(perturb=False).items()}
    p_new = {k: v.clone().requires_grad_(True) for k, v in _params(perturb=False).items()}
    batch = _batch()
    step.train_step(p_ref, step.make_optimizer(p_ref, HP), *batch)
    with pytest.warns(RuntimeWarning, match="backward compiler failed"):
        step.train_step(p_new, step.make_optimizer(p_new, HP), *batch, options=step.StepOptions(compile=True))
    for k in p_ref:
        assert torch.equal(p_new[k], p_ref[k]), k
