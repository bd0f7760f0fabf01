"""Ensemble training: seeds x chains x depths trained as one batched job, evaluated against the Bayes floor, cached.

One call, :func:`run_sweep`, trains every model of a ``SweepConfig`` (``rgnb.mlp.sweeps``) at
once: models of the same depth share one parameter dict with a leading model axis
(``rgnb.mlp.model``), and one AdamW step updates all of them (Adam is elementwise, so the stacked
update equals independent updates; the total loss is the sum of per-model losses, so each model's
gradient is its own). Depth groups run side by side in the same loop on the same data
(``rgnb.mlp.data``). Each model's initial weights come from its seed only and each (chain, seed)
pair has its own data stream, so an ensemble member is the same model as the one trained alone
with the same seed (tested).

Results (per-step losses, held-out loss against the exact Bayes floor on the same held-out
sequences, trained weights) are stored by ``rgnb.cache`` under a hash of the full config,
:data:`NUMERICS_VERSION` and the normalised source of the training code; residual streams are
recomputed from the weights on a fixed probe set (:meth:`SweepResult.streams`). The ``reference``
profile's weights are shipped instead (``rgnb.mlp.shipped``).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

import rgnb
from rgnb import cache as _cache
from rgnb import chains
from rgnb.mlp import data as _data
from rgnb.mlp import gate as _gate
from rgnb.mlp import model
from rgnb.mlp import step as _step
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp.step import StepOptions
from rgnb.mlp.step import make_optimizer as _optimizer
from rgnb.mlp.step import train_step
from rgnb.profiles import resolve_device
from rgnb.provenance import environment
from rgnb.validate import check_choice, check_int

#: The numerics contract: the version of the numbers that training and evaluation compute. Bump it
#: when a change alters any golden array (``rgnb.mlp.golden``; the unit test says when), then run
#: ``tools/regenerate_golden.py``; shipped weights of another version are refused at load.
NUMERICS_VERSION = 1
STAGES = ("init", "trained")


def lr_factor(step: int, warmup: int, steps: int, min_frac: float) -> float:
    """Learning-rate multiplier at ``step`` (0-based): linear warm-up, then cosine to ``min_frac``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return min_frac + (1.0 - min_frac) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _as_stream_dtype(x: torch.Tensor, config: _sweeps.SweepConfig) -> np.ndarray:
    return x.detach().to("cpu", torch.float32).numpy().astype(config.stream_dtype)


def train_sweep(config: _sweeps.SweepConfig, device: torch.device, progress: bool = True) -> tuple[dict, dict]:
    """Train every model of ``config``; return (arrays, meta) ready for ``rgnb.cache.store``.

    Arrays: ``loss_per_step`` (steps, M), ``loss_steps`` (n_logged,), ``loss_curves`` (M, n_logged),
    ``final_loss`` / ``bayes_floor`` / ``bayes_low`` / ``bayes_high`` / ``excess_loss`` (M,),
    ``weights/depth<L>/<name>`` (M_L, ...).
    """
    started = time.perf_counter()
    members = config.members()
    pair_index = {(xi, s): i for i, (xi, s) in enumerate((xi, s) for xi in config.xis for s in config.seeds)}
    groups = []  # (depth, member indices, params, optimizer, pair indices)
    for L in config.depths:
        idx = [i for i, m in enumerate(members) if m["depth"] == L]
        params = model.init_params(config.model_config(L), [members[i]["seed"] for i in idx], device)
        for p in params.values():
            p.requires_grad_(True)
        pidx = torch.tensor([pair_index[(members[i]["xi"], members[i]["seed"])] for i in idx], device=device)
        groups.append((L, idx, params, _optimizer(params, config), pidx))

    # float32 eager everywhere (fused AdamW on CUDA): the convergence gate was tuned in float32, and bf16
    # autocast's ~3 significant digits are of the order of the gate's 0.01 nats.
    options = StepOptions(fused_adamw=torch.device(device).type == "cuda")
    arrays: dict[str, np.ndarray] = {}
    data = _data.DataStream(config, device)
    loss_per_step = torch.zeros(config.steps, len(members), device=device)
    bar = tqdm(range(config.steps), desc=f"train {config.kind}: {len(members)} models", disable=not progress,
               file=sys.stderr, mininterval=5.0)
    for step in bar:
        tokens, mask = data.next()
        inputs = chains.apply_mask(tokens, mask, config.vocab_size)
        factor = lr_factor(step, config.warmup, config.steps, config.min_lr_frac)
        for _, idx, params, opt, pidx in groups:
            for g in opt.param_groups:
                g["lr"] = config.lr * factor
            loss_per_step[step, idx] = train_step(params, opt, inputs[pidx], tokens[pidx], mask[pidx], options)
        if progress and (step + 1) % config.log_every == 0:
            bar.set_postfix(loss=f"{loss_per_step[step].mean().item():.3f}")
    bar.close()
    train_time = time.perf_counter() - started

    for L, idx, params, _, _ in groups:
        for name, p in params.items():
            arrays[f"weights/depth{L}/{name}"] = p.detach().cpu().numpy()
    arrays.update(evaluate(config, {L: params for L, _, params, _, _ in groups}, device))
    curves = loss_per_step.cpu().numpy()
    arrays["loss_per_step"] = curves.astype(np.float32)
    arrays["loss_steps"] = np.arange(config.log_every, config.steps + 1, config.log_every, dtype=np.int64)
    arrays["loss_curves"] = curves.reshape(-1, config.log_every, len(members)).mean(1).T.copy()
    meta = {"config": config, "members": members, "device": str(device), "train_wall_time_s": train_time,
            "wall_time_s": time.perf_counter() - started, "env": environment(device),
            "rgnb_version": rgnb.__version__, "numerics_version": NUMERICS_VERSION}
    return arrays, meta


@torch.no_grad()
def evaluate(config: _sweeps.SweepConfig, weights: dict[int, dict[str, torch.Tensor]], device: torch.device) -> dict:
    """Held-out loss of every model against the exact Bayes floor on the same sequences and masks.

    ``weights``: depth -> parameter dict with a model axis in member order of that depth. Returns
    ``final_loss``, ``bayes_floor``, ``bayes_low``, ``bayes_high``, ``excess_loss``, each (M,) float64.
    """
    members = config.members()
    groups = []
    for L, params in weights.items():
        idx = [i for i, m in enumerate(members) if m["depth"] == L]
        groups.append((L, idx, {k: v.to(device) for k, v in params.items()}, None, None))
    out = {k: np.zeros(len(members)) for k in ("final_loss", "bayes_floor", "bayes_low", "bayes_high")}
    for xi in config.xis:
        _evaluate_chain(config, xi, device, groups, members, out["final_loss"], out["bayes_floor"],
                        out["bayes_low"], out["bayes_high"])
    out["excess_loss"] = out["final_loss"] - out["bayes_floor"]
    return out


@torch.no_grad()
def _evaluate_chain(config, xi, device, groups, members, final, floor, low, high) -> None:
    """Held-out loss of every model of chain ``xi`` and the exact Bayes loss on the same set (in place)."""
    tokens, mask, inputs = _data.fixed_set(config, xi, config.n_eval, config.eval_seed, device)
    chain = _data.chain_of(config.kind, config.vocab_size, float(xi))
    bayes = chains.masked_token_losses(chain.P, tokens.cpu(), mask.cpu(), chain.pi)
    ci = chains.ratio_interval(bayes.sum(1).numpy(), mask.cpu().sum(1).numpy())
    for _, idx, params, _, _ in groups:
        sel = [j for j, i in enumerate(idx) if members[i]["xi"] == xi]
        sub = {k: v[sel] for k, v in params.items()}
        total = torch.zeros(len(sel), dtype=torch.float64, device=device)
        for a in range(0, config.n_eval, 512):
            ls, _ = model.masked_losses(model.forward(sub, inputs[a:a + 512]), tokens[a:a + 512],
                                         mask[a:a + 512])
            total += ls.double()
        count = float(mask.sum())
        for j, js in enumerate(sel):
            i = idx[js]
            final[i] = float(total[j]) / count
            floor[i], low[i], high[i] = ci.estimate, ci.low, ci.high


def sweep_key(config: _sweeps.SweepConfig, device: torch.device) -> str:
    """Local cache key of a sweep: config, numerics version, normalised source of the training code, device type."""
    return _cache.config_key(config, numerics_version=NUMERICS_VERSION, code=_cache.source_hash(train_sweep),
                             device_type=torch.device(device).type)


@dataclasses.dataclass
class SweepResult:
    """A trained sweep, read back from its cache entry (small arrays held in memory)."""

    config: _sweeps.SweepConfig
    key: str
    entry: _cache.Entry
    from_cache: bool
    members: list[dict[str, Any]]
    loss_steps: np.ndarray      # (n_logged,) step at the end of each logging window
    loss_curves: np.ndarray     # (M, n_logged) training loss, nats per masked token, window means
    final_loss: np.ndarray      # (M,) held-out loss, nats per masked token
    bayes_floor: np.ndarray     # (M,) exact Bayes loss on the same held-out set
    bayes_low: np.ndarray       # (M,) its 95% CI (Monte Carlo over sequences)
    bayes_high: np.ndarray
    excess_loss: np.ndarray     # (M,) final_loss - bayes_floor (paired, same sequences)
    device: str
    wall_time: float
    env: dict
    shipped: bool = False

    @classmethod
    def from_entry(cls, config: _sweeps.SweepConfig, key: str, entry: _cache.Entry, from_cache: bool) -> "SweepResult":
        a = entry.array
        return cls(config=config, key=key, entry=entry, from_cache=from_cache, members=entry.meta["members"],
                   loss_steps=a("loss_steps"), loss_curves=a("loss_curves"),
                   final_loss=a("final_loss"), bayes_floor=a("bayes_floor"), bayes_low=a("bayes_low"),
                   bayes_high=a("bayes_high"), excess_loss=a("excess_loss"), device=entry.meta["device"],
                   wall_time=float(entry.meta["wall_time_s"]), env=entry.meta["env"],
                   shipped=bool(entry.meta.get("shipped", False)))

    def __len__(self) -> int:
        return len(self.members)

    @property
    def loss_per_step(self) -> np.ndarray:
        """(steps, M) training loss of every step (not kept in shipped results: use ``loss_curves``)."""
        if "loss_per_step" not in self.entry.names():
            raise ValueError("loss_per_step is not stored for shipped results; use loss_curves")
        return self.entry.array("loss_per_step")

    def _xi_index(self, xi: float) -> int:
        for k, x in enumerate(self.config.xis):
            if math.isclose(float(x), float(xi), rel_tol=1e-9):
                return k
        raise ValueError(f"xi must be one of the sweep's {self.config.xis}, got {xi!r}")

    def select(self, xi: float | None = None, seed: int | None = None, depth: int | None = None) -> list[int]:
        """Member indices matching the given fields (None = any), in storage order."""
        xi_val = None if xi is None else float(self.config.xis[self._xi_index(xi)])
        return [i for i, m in enumerate(self.members)
                if (xi_val is None or m["xi"] == xi_val) and (seed is None or m["seed"] == seed)
                and (depth is None or m["depth"] == depth)]

    def probe_set(self, xi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probe set of chain ``xi`` drawn on the CPU: (tokens int64, mask bool, inputs int64), each (n_probe, T)."""
        self._xi_index(xi)
        tokens, mask, inputs = _data.fixed_set(self.config, float(xi), self.config.n_probe, self.config.probe_seed,
                                         torch.device("cpu"))
        return tokens.numpy(), mask.numpy(), inputs.numpy()

    def probe_tokens(self, xi: float) -> np.ndarray:
        """Model inputs of the probe set of chain ``xi`` (mask id V at hidden positions), (n_probe, T) int64."""
        return self.probe_set(xi)[2]

    def probe_targets(self, xi: float) -> np.ndarray:
        """True tokens of the probe set of chain ``xi`` (no mask), (n_probe, T) int64."""
        return self.probe_set(xi)[0]

    def probe_mask(self, xi: float) -> np.ndarray:
        """Mask of the probe set of chain ``xi`` (True = hidden), (n_probe, T) bool."""
        return self.probe_set(xi)[1]

    def weights(self, member_index: int, stage: str = "trained",
                device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Parameters of one member at ``stage`` ("init" or "trained"), with a model axis of 1."""
        check_choice("stage", stage, STAGES)
        check_int("member_index", member_index, 0, len(self.members) - 1)
        m = self.members[member_index]
        if stage == "init":
            return model.init_params(self.config.model_config(m["depth"]), [m["seed"]], device)
        j = self.select(depth=m["depth"]).index(member_index)
        return {k: torch.from_numpy(np.array(self.entry.array(f"weights/depth{m['depth']}/{k}", mmap=True)[j:j + 1],
                                             dtype=np.float32)).to(device)
                for k in self.config.model_config(m["depth"]).param_names()}

    def streams(self, member_index: int, stage: str, inputs: np.ndarray | None = None) -> np.ndarray:
        """Residual stream h^0..h^L of a member, (L+1, N, T, d) float32, recomputed on the CPU.

        On ``inputs`` (N, T) if given, else on the probe set of the member's own chain.
        """
        check_choice("stage", stage, STAGES)
        check_int("member_index", member_index, 0, len(self.members) - 1)
        if inputs is None:
            inputs = self.probe_tokens(self.members[member_index]["xi"])
        params = self.weights(member_index, stage)
        return model.residual_streams(params, torch.as_tensor(np.asarray(inputs), dtype=torch.int64))[0].numpy()

    def recovered_share(self) -> np.ndarray:
        """(M,) share of the context information recovered, ``(ln V - loss) / (ln V - Bayes)``; NaN where
        the context carries none (the shuffled chain)."""
        return _gate.recovered_share(self.final_loss, self.bayes_floor, self.config.vocab_size)

    def gate(self) -> np.ndarray:
        """(M,) bool: which models pass the convergence gate (:func:`gate_passes`)."""
        return _gate.gate_passes(self.excess_loss, self.recovered_share())

    def runs_table(self) -> list[dict[str, Any]]:
        """One row per model: config, seed, steps, losses, gate, wall time (the whole sweep's), device."""
        c = self.config
        share, ok = self.recovered_share(), self.gate()
        return [{"kind": m["kind"], "xi": m["xi"], "depth": m["depth"], "width": c.width, "seed": m["seed"],
                 "steps": c.steps, "batch": c.batch_size, "lr": c.lr, "V": c.vocab_size, "T": c.seq_len,
                 "final loss": float(self.final_loss[i]), "Bayes floor": float(self.bayes_floor[i]),
                 "excess": float(self.excess_loss[i]), "share": float(share[i]), "gate": "pass" if ok[i] else "FAIL",
                 "wall time (s, whole sweep)": self.wall_time, "device": self.env.get("device_name", self.device)}
                for i, m in enumerate(self.members)]


def run_sweep(config: _sweeps.SweepConfig, device: torch.device | str = "auto", cache_dir=None,
              progress: bool = True) -> SweepResult:
    """Train (or load from the cache) every model of ``config`` on ``device``; see :class:`SweepResult`."""
    if not isinstance(config, _sweeps.SweepConfig):
        raise ValueError(f"config must be a SweepConfig, got {type(config).__name__}")
    device = resolve_device(device)
    key = sweep_key(config, device)
    entry = _cache.load(key, cache_dir)
    hit = entry is not None
    if not hit:
        with _step.training_threads(device) as threads:
            arrays, meta = train_sweep(config, device, progress=progress)
        meta["torch_threads"] = threads
        _cache.store(key, arrays, meta, cache_dir)
        entry = _cache.load(key, cache_dir, remove_bad=False)
        if entry is None:
            raise RuntimeError(f"cache entry {key} failed verification right after it was written")
    return SweepResult.from_entry(config, key, entry, from_cache=hit)
