"""One training step of a batched ensemble: the loss, the AdamW optimiser, threads and fast paths.

:func:`train_step` is the step every sweep runs (``rgnb.mlp.train`` imports it): the masked
cross-entropy of M models on their own batches, summed over models (each model's gradient is its
own), one AdamW update. It computes in the position-major layout of
:func:`rgnb.mlp.model.forward_tmajor` (no transpose copies in the blocks).

Fast paths are options of the step (:class:`StepOptions`), off by default on the CPU, where the
step is the plain float32 eager computation:

- ``autocast``: ``"bfloat16"`` (or ``"float16"``) autocast of the forward pass; the master
  weights, optimiser state, gradients and the loss stay float32 (logits are cast up before the
  log-softmax).
- ``compile``: ``torch.compile`` of the forward pass + loss (its backward is compiled with it);
  ``cuda_graphs`` compiles with ``mode="reduce-overhead"`` (CUDA graphs; shapes must be static).
  If compilation fails, the step warns once and runs eager from then on (same numerics).
- ``fused_adamw``: the fused AdamW kernel (CUDA); otherwise the ``foreach`` implementation.

:func:`StepOptions.for_device` gives the defaults: all off on the CPU; bf16 autocast, compile and
fused AdamW on CUDA (CUDA graphs are opt-in). :func:`choose_threads` picks the CPU thread count (``RGNB_THREADS`` wins).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import warnings

import torch

from rgnb.mlp import model

#: Parameters with weight decay (matrices); embeddings, biases and LayerNorm gains/shifts have none.
DECAYED = ("tok_w1", "tok_w2", "ch_w1", "ch_w2", "out_w")
AUTOCAST_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
THREADS_ENV = "RGNB_THREADS"


@dataclasses.dataclass(frozen=True)
class StepOptions:
    """Fast-path switches of :func:`train_step` (see the module docstring). All off = float32 eager."""

    autocast: str | None = None
    compile: bool = False
    cuda_graphs: bool = False
    fused_adamw: bool = False

    def __post_init__(self) -> None:
        if self.autocast is not None and self.autocast not in AUTOCAST_DTYPES:
            raise ValueError(f"autocast must be None or one of {tuple(AUTOCAST_DTYPES)}, got {self.autocast!r}")
        for name in ("compile", "cuda_graphs", "fused_adamw"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.cuda_graphs and not self.compile:
            raise ValueError("cuda_graphs needs compile=True (CUDA graphs come from torch.compile)")

    @classmethod
    def for_device(cls, device: torch.device | str) -> "StepOptions":
        """Defaults: float32 eager on the CPU; bf16 autocast + compile + fused AdamW on CUDA (CUDA graphs opt-in)."""
        if torch.device(device).type == "cuda":
            return cls(autocast="bfloat16", compile=True, fused_adamw=True)
        return cls()


def choose_threads(cpu_count: int | None = None, load: float | None = None) -> int:
    """Torch CPU threads for training: ``RGNB_THREADS`` if set, else the cores no other process uses.

    Without the override: ``cpu_count - round(load)`` clamped to ``[1, cpu_count]``, where ``load``
    is the 1-minute load average (``os.getloadavg``). Measured on the shared 2-core machine: a
    second OpenMP thread on a core another process holds makes a step ~20x slower (every parallel
    region waits for the descheduled thread), while on an idle machine 2 threads gain < 2x, so a
    thread is used only where a core is free.
    """
    from rgnb.environment import read

    override = read().threads  # RGNB_THREADS, validated there (an integer >= 1)
    if override is not None:
        return override
    if cpu_count is None:
        cpu_count = os.cpu_count() or 1
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return int(min(cpu_count, max(1, cpu_count - math.floor(load + 0.5))))


@contextlib.contextmanager
def training_threads(device: torch.device | str):
    """Run a CPU training with :func:`choose_threads` torch threads, restoring the previous count after.

    Yields the thread count in use (on CUDA the count is left alone and yielded as is). Trained weights
    do not depend on it (``tests/test_train.py`` trains with 1 and 2 threads and compares bytes).
    """
    before = torch.get_num_threads()
    if torch.device(device).type != "cpu":
        yield before
        return
    torch.set_num_threads(choose_threads())
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def make_optimizer(params: dict[str, torch.Tensor], config, fused: bool | None = None) -> torch.optim.Optimizer:
    """AdamW over a parameter dict; ``config`` carries ``lr``, ``weight_decay``, ``beta1``, ``beta2``.

    Weight decay on the matrices (:data:`DECAYED`) only. ``fused=True``: the fused kernel, else
    ``foreach``; None: :meth:`StepOptions.for_device` of the parameters' device (fused on CUDA).
    """
    if fused is None:
        fused = StepOptions.for_device(params["tok_emb"].device).fused_adamw
    decay = [p for k, p in params.items() if k in DECAYED]
    rest = [p for k, p in params.items() if k not in DECAYED]
    impl = {"fused": True} if fused else {"foreach": True}
    return torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                              {"params": rest, "weight_decay": 0.0}],
                             lr=config.lr, betas=(config.beta1, config.beta2), **impl)


def per_model_loss(params: dict[str, torch.Tensor], inputs: torch.Tensor, targets: torch.Tensor,
                   mask: torch.Tensor, autocast: str | None = None) -> torch.Tensor:
    """Masked cross-entropy per model, nats per masked token, (M,) float32.

    ``inputs``, ``targets``, ``mask`` (M, B, T). With ``autocast`` the forward pass runs in that
    dtype; the logits are cast to float32 before the loss.
    """
    tm = (inputs.transpose(1, 2), targets.transpose(1, 2), mask.transpose(1, 2))
    if autocast is None:
        logits = model.forward_tmajor(params, tm[0])
    else:
        with torch.autocast(device_type=inputs.device.type, dtype=AUTOCAST_DTYPES[autocast]):
            logits = model.forward_tmajor(params, tm[0])
    loss_sum, count = model.masked_losses(logits.float(), tm[1], tm[2])
    return loss_sum / count


_COMPILED: dict[tuple, object] = {}


def _loss_fn(options: StepOptions):
    """The loss function of the step: :func:`per_model_loss`, compiled once per option set if asked."""
    if not options.compile:
        return per_model_loss
    key = (options.autocast, options.cuda_graphs)
    if key not in _COMPILED:
        _COMPILED[key] = torch.compile(per_model_loss, mode="reduce-overhead" if options.cuda_graphs else None,
                                       dynamic=False)
    return _COMPILED[key]


def train_step(params: dict[str, torch.Tensor], opt: torch.optim.Optimizer, inputs: torch.Tensor,
               targets: torch.Tensor, mask: torch.Tensor, options: StepOptions | None = None) -> torch.Tensor:
    """One AdamW step of M models on their own batches (each (M, B, T)); returns the per-model loss (M,).

    ``options`` None: :meth:`StepOptions.for_device` of the parameters' device.
    """
    if options is None:
        options = StepOptions.for_device(params["tok_emb"].device)
    key = (options.autocast, options.cuda_graphs)
    per_model = None
    if options.compile and _COMPILED.get(key) is not per_model_loss:
        try:  # the backward is compiled on its first call: both inside the guard
            per_model = _loss_fn(options)(params, inputs, targets, mask, options.autocast)
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()
        except Exception as exc:  # noqa: BLE001 - any compiler failure; the eager rerun re-raises real errors
            warnings.warn(f"torch.compile of the training step failed ({type(exc).__name__}: {exc}); "
                          "running eager", RuntimeWarning, stacklevel=2)
            _COMPILED[key] = per_model_loss
            per_model = None
    if per_model is None:
        per_model = per_model_loss(params, inputs, targets, mask, options.autocast)
        opt.zero_grad(set_to_none=True)
        per_model.sum().backward()
    opt.step()
    return per_model.detach().clone() if options.cuda_graphs else per_model.detach()
