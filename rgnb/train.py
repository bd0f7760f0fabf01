"""Ensemble training: seeds x chains x depths trained as one batched job, cached on disk.

One call, :func:`run_sweep`, trains every model of a :class:`SweepConfig` at once: models of the
same depth share one parameter dict with a leading model axis (``rgnb.models``), and one AdamW
step updates all of them (Adam is elementwise, so the stacked update equals independent updates;
the total loss is the sum of per-model losses, so each model's gradient is its own). Depth groups
run side by side in the same loop on the same data.

Data are fresh every step (no epochs): stationary sequences of the model's chain
(``rgnb.chains.sample_chain``) with span masking (``rgnb.chains.sample_mask``, the chain
chapter's ``DEFAULT_MASK`` unless the config says otherwise), drawn on the device. Each
(chain, seed) pair has its own data generator seeded from (kind, V, T, mask, xi, seed) only, and
each model's initial weights come from its seed only, so an ensemble member is the same model as
the one trained alone with the same seed (tested). Models of different depth with the same
(chain, seed) see the very same batches.

Results (per-step losses, held-out loss against the exact Bayes floor on the same held-out
sequences, trained weights, residual streams at initialisation and after training on a fixed
probe set) are stored by ``rgnb.cache`` under a hash of the full config and the source of the
training code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

import rgnb
from rgnb import cache as _cache
from rgnb import chains, models
from rgnb.claims import NOT_REPRODUCED, Claim, Threshold, check
from rgnb.profiles import resolve_device, resolve_profile, sizes_for
from rgnb.provenance import environment
from rgnb.stats import Interval, mean_ci
from rgnb.step import make_optimizer as _optimizer
from rgnb.step import train_step

#: Bumped by hand when the meaning of stored results changes without a source change.
CODE_VERSION = "1"
STAGES = ("init", "trained")

#: Pre-stated test of the training chapter: the mean excess held-out loss over seeds of every chain
#: (worst chain counts) must lie below this many nats per masked token, whole 95% CI.
EXCESS_LOSS_NATS = 0.05
EXCESS_LOSS_THRESHOLD = Threshold("excess loss over the Bayes floor, worst chain (nats/masked token)",
                                  EXCESS_LOSS_NATS, "below")
#: Pre-stated test: the share of the context information (ln V - Bayes loss) that training
#: recovers, ``(ln V - loss) / (ln V - Bayes)``, must exceed this for the paper's chains (xi ~ 1, ~7).
RECOVERED_SHARE = 0.9
RECOVERED_SHARE_THRESHOLD = Threshold("share of the context information recovered, (ln V - loss) / (ln V - Bayes)",
                                      RECOVERED_SHARE, "above")


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_float(name: str, value, low: float, high: float, open_low: bool = False) -> None:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise ValueError(f"{name} must be a number in {bracket}{low:g}, {high:g}], got {value!r}")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Everything that determines a sweep's results (hashed for the cache).

    Chains ``kind`` with ``vocab_size`` V and correlation lengths ``xis``; sequences of ``seq_len``
    T masked by ``mask``; models of ``width`` d and each depth in ``depths``; one model per
    (depth, xi, seed). AdamW with peak ``lr``, linear warm-up over ``warmup`` steps, cosine decay to
    ``min_lr_frac * lr`` at ``steps``; ``batch_size`` fresh sequences per model per step, drawn in
    chunks of ``data_chunk`` steps. ``n_probe`` probe sequences per chain (residual streams are
    stored on them, as ``stream_dtype``), ``n_eval`` held-out sequences per chain (final loss and
    exact Bayes floor), per-step losses averaged over windows of ``log_every`` steps.
    """

    kind: str = "potts"
    vocab_size: int = 8
    seq_len: int = 16
    xis: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 7.0)
    depths: tuple[int, ...] = (2, 4)
    seeds: tuple[int, ...] = (0, 1, 2)
    width: int = 32
    token_mult: int = 2
    channel_mult: int = 4
    mask: chains.MaskSpec = chains.DEFAULT_MASK
    steps: int = 300
    batch_size: int = 32
    lr: float = 1e-2
    warmup: int = 30
    min_lr_frac: float = 0.05
    weight_decay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.99
    data_chunk: int = 50
    log_every: int = 10
    n_probe: int = 128
    n_eval: int = 1000
    probe_seed: int = 10_001
    eval_seed: int = 20_002
    stream_dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.kind not in chains.KINDS:
            raise ValueError(f"kind must be one of {chains.KINDS}, got {self.kind!r}")
        for name in ("xis", "depths", "seeds"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{name} must be a non-empty tuple, got {value!r}")
            if len(set(value)) != len(value):
                raise ValueError(f"{name} must not repeat values, got {value!r}")
        for d in self.depths:
            _check_int("depth", d, 1)
        for s in self.seeds:
            _check_int("seed", s, 0)
        for xi in self.xis:
            _check_float("xi", xi, chains.XI_RANGE[0], chains.XI_RANGE[1])
        _check_int("vocab_size", self.vocab_size, 3 if self.kind == "ring" else 2)
        _check_int("seq_len", self.seq_len, 2)
        _check_int("width", self.width, 1)
        _check_int("token_mult", self.token_mult, 1)
        _check_int("channel_mult", self.channel_mult, 1)
        if not isinstance(self.mask, chains.MaskSpec):
            raise ValueError(f"mask must be a chains.MaskSpec, got {self.mask!r}")
        _check_int("steps", self.steps, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_float("lr", self.lr, 0.0, 1.0, open_low=True)
        _check_int("warmup", self.warmup, 0)
        if self.warmup >= self.steps:
            raise ValueError(f"warmup must be < steps = {self.steps}, got {self.warmup}")
        _check_float("min_lr_frac", self.min_lr_frac, 0.0, 1.0)
        _check_float("weight_decay", self.weight_decay, 0.0, 10.0)
        _check_float("beta1", self.beta1, 0.0, 0.999999)
        _check_float("beta2", self.beta2, 0.0, 0.999999)
        _check_int("data_chunk", self.data_chunk, 1)
        _check_int("log_every", self.log_every, 1)
        if self.steps % self.log_every:
            raise ValueError(f"log_every must divide steps = {self.steps}, got {self.log_every}")
        _check_int("n_probe", self.n_probe, 2)
        _check_int("n_eval", self.n_eval, 2)
        _check_int("probe_seed", self.probe_seed, 0)
        _check_int("eval_seed", self.eval_seed, 0)
        if self.stream_dtype not in ("float32", "float16"):
            raise ValueError(f"stream_dtype must be 'float32' or 'float16', got {self.stream_dtype!r}")

    def model_config(self, depth: int) -> models.ModelConfig:
        return models.ModelConfig(self.vocab_size, self.seq_len, self.width, depth, self.token_mult,
                                  self.channel_mult)

    def members(self) -> list[dict[str, Any]]:
        """One dict per model, in storage order: depth-major, then xi, then seed."""
        return [{"xi": float(xi), "seed": int(s), "depth": int(L), "kind": self.kind}
                for L in self.depths for xi in self.xis for s in self.seeds]


#: Sweep sizes per profile. smoke: the training chapter in well under a minute on a 2-core CPU.
#: full: paper scale (8 chains, 5 seeds, depths to 16), run on a GPU.
SWEEPS = {
    "smoke": SweepConfig(channel_mult=2),
    # Placeholder until the reference sweep is sized to pass the convergence gate: the smoke sweep.
    "reference": SweepConfig(channel_mult=2),
    "full": SweepConfig(kind="potts", vocab_size=8, seq_len=32, xis=(0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0),
                        depths=(4, 8, 16), seeds=(0, 1, 2, 3, 4), width=64, steps=6000, batch_size=256,
                        lr=3e-3, warmup=300, data_chunk=100, log_every=50, n_probe=256, n_eval=8192,
                        stream_dtype="float16"),
}


def sweep_for(profile: str) -> SweepConfig:
    """The sweep of a profile (``smoke``, ``full`` or ``auto``)."""
    from rgnb.profiles import PROFILES
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return sizes_for(SWEEPS, resolve_profile(profile))


# --------------------------------------------------------------------------------------------- #
# Seeds, data, schedule
# --------------------------------------------------------------------------------------------- #
def _stable_seed(*parts: Any) -> int:
    text = "|".join(repr(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def data_seed(config: SweepConfig, xi: float, seed: int) -> int:
    """Seed of the training-data stream of (chain xi, seed); independent of the rest of the sweep."""
    return _stable_seed("train-data", config.kind, config.vocab_size, config.seq_len, config.mask.rate,
                        config.mask.span, float(xi), int(seed))


def lr_factor(step: int, warmup: int, steps: int, min_frac: float) -> float:
    """Learning-rate multiplier at ``step`` (0-based): linear warm-up, then cosine to ``min_frac``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return min_frac + (1.0 - min_frac) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def fixed_set(config: SweepConfig, xi: float, n: int, seed: int, device: torch.device):
    """A fixed masked set of chain ``xi``: (tokens, mask, inputs), each (n, T), on ``device``."""
    P = chains.make_chain(config.kind, config.vocab_size, float(xi))
    gen = torch.Generator(device=device).manual_seed(_stable_seed("fixed", int(seed), float(xi)))
    tokens = chains.sample_chain(P, n, config.seq_len, generator=gen, device=device)
    mask = chains.sample_mask(n, config.seq_len, config.mask, generator=gen, device=device)
    return tokens, mask, chains.apply_mask(tokens, mask, config.vocab_size)


class _DataStream:
    """Fresh training batches of every (xi, seed) pair, drawn ``data_chunk`` steps at a time."""

    def __init__(self, config: SweepConfig, device: torch.device):
        self.config = config
        self.device = device
        self.pairs = [(xi, s) for xi in config.xis for s in config.seeds]
        self.chains = {xi: chains.make_chain(config.kind, config.vocab_size, float(xi)) for xi in config.xis}
        self.gens = [torch.Generator(device=device).manual_seed(data_seed(config, xi, s)) for xi, s in self.pairs]
        self.step_in_chunk = config.data_chunk

    def _refill(self) -> None:
        c = self.config
        n = c.batch_size * c.data_chunk
        toks, masks = [], []
        for (xi, _), gen in zip(self.pairs, self.gens):
            t = chains.sample_chain(self.chains[xi], n, c.seq_len, generator=gen, device=self.device)
            m = chains.sample_mask(n, c.seq_len, c.mask, generator=gen, device=self.device)
            toks.append(t.view(c.data_chunk, c.batch_size, c.seq_len))
            masks.append(m.view(c.data_chunk, c.batch_size, c.seq_len))
        self.tokens = torch.stack(toks, 1)  # (chunk, pairs, B, T)
        self.masks = torch.stack(masks, 1)
        self.step_in_chunk = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens and mask for the next step, each (pairs, B, T)."""
        if self.step_in_chunk == self.config.data_chunk:
            self._refill()
        k = self.step_in_chunk
        self.step_in_chunk += 1
        return self.tokens[k], self.masks[k]


def _as_stream_dtype(x: torch.Tensor, config: SweepConfig) -> np.ndarray:
    return x.detach().to("cpu", torch.float32).numpy().astype(config.stream_dtype)


# --------------------------------------------------------------------------------------------- #
# Training
# --------------------------------------------------------------------------------------------- #
def train_sweep(config: SweepConfig, device: torch.device, progress: bool = True) -> tuple[dict, dict]:
    """Train every model of ``config``; return (arrays, meta) ready for ``rgnb.cache.store``.

    Arrays: ``loss_per_step`` (steps, M), ``loss_steps`` (n_logged,), ``loss_curves`` (M, n_logged),
    ``final_loss`` / ``bayes_floor`` / ``bayes_low`` / ``bayes_high`` / ``excess_loss`` (M,),
    ``probe/inputs|tokens|mask`` (n_xi, n_probe, T), ``streams/<stage>/<i>`` (L+1, n_probe, T, d),
    ``weights/depth<L>/<name>`` (M_L, ...).
    """
    started = time.perf_counter()
    members = config.members()
    pair_index = {(xi, s): i for i, (xi, s) in enumerate((xi, s) for xi in config.xis for s in config.seeds)}
    groups = []  # (depth, member indices, params, optimizer, pair indices)
    for L in config.depths:
        idx = [i for i, m in enumerate(members) if m["depth"] == L]
        params = models.init_params(config.model_config(L), [members[i]["seed"] for i in idx], device)
        for p in params.values():
            p.requires_grad_(True)
        pidx = torch.tensor([pair_index[(members[i]["xi"], members[i]["seed"])] for i in idx], device=device)
        groups.append((L, idx, params, _optimizer(params, config), pidx))

    arrays: dict[str, np.ndarray] = {}
    probe = [fixed_set(config, xi, config.n_probe, config.probe_seed, device) for xi in config.xis]
    for name, j in (("tokens", 0), ("mask", 1), ("inputs", 2)):
        arrays[f"probe/{name}"] = torch.stack([p[j] for p in probe]).cpu().numpy()
    xi_index = {xi: k for k, xi in enumerate(config.xis)}

    def record_streams(stage: str) -> None:
        for _, idx, params, _, _ in groups:
            inputs = torch.stack([probe[xi_index[members[i]["xi"]]][2] for i in idx])
            streams = models.residual_streams(params, inputs)
            for j, i in enumerate(idx):
                arrays[f"streams/{stage}/{i}"] = _as_stream_dtype(streams[j], config)

    record_streams("init")
    data = _DataStream(config, device)
    loss_per_step = torch.zeros(config.steps, len(members), device=device)
    bar = tqdm(range(config.steps), desc=f"train {len(members)} models", disable=not progress, file=sys.stderr,
               mininterval=1.0)
    for step in bar:
        tokens, mask = data.next()
        inputs = chains.apply_mask(tokens, mask, config.vocab_size)
        factor = lr_factor(step, config.warmup, config.steps, config.min_lr_frac)
        for _, idx, params, opt, pidx in groups:
            for g in opt.param_groups:
                g["lr"] = config.lr * factor
            loss_per_step[step, idx] = train_step(params, opt, inputs[pidx], tokens[pidx], mask[pidx])
        if progress and (step + 1) % config.log_every == 0:
            bar.set_postfix(loss=f"{loss_per_step[step].mean().item():.3f}")
    bar.close()
    train_time = time.perf_counter() - started

    record_streams("trained")
    for L, idx, params, _, _ in groups:
        for name, p in params.items():
            arrays[f"weights/depth{L}/{name}"] = p.detach().cpu().numpy()

    # Held-out loss against the exact Bayes floor on the same sequences and masks.
    final = np.zeros(len(members))
    floor = np.zeros(len(members))
    low = np.zeros(len(members))
    high = np.zeros(len(members))
    for xi in config.xis:
        _evaluate_chain(config, xi, device, groups, members, final, floor, low, high)

    curves = loss_per_step.cpu().numpy()
    arrays["loss_per_step"] = curves.astype(np.float32)
    arrays["loss_steps"] = np.arange(config.log_every, config.steps + 1, config.log_every, dtype=np.int64)
    arrays["loss_curves"] = curves.reshape(-1, config.log_every, len(members)).mean(1).T.copy()
    arrays["final_loss"] = final
    arrays["bayes_floor"] = floor
    arrays["bayes_low"] = low
    arrays["bayes_high"] = high
    arrays["excess_loss"] = final - floor
    meta = {"config": config, "members": members, "device": str(device), "train_wall_time_s": train_time,
            "wall_time_s": time.perf_counter() - started, "env": environment(device),
            "rgnb_version": rgnb.__version__, "code_version": CODE_VERSION, "code_hash": code_hash()}
    return arrays, meta


@torch.no_grad()
def _evaluate_chain(config, xi, device, groups, members, final, floor, low, high) -> None:
    """Held-out loss of every model of chain ``xi`` and the exact Bayes loss on the same set (in place)."""
    tokens, mask, inputs = fixed_set(config, xi, config.n_eval, config.eval_seed, device)
    P = chains.make_chain(config.kind, config.vocab_size, float(xi))
    bayes = chains.masked_token_losses(P, tokens.cpu(), mask.cpu())
    ci = chains.ratio_interval(bayes.sum(1).numpy(), mask.cpu().sum(1).numpy())
    for _, idx, params, _, _ in groups:
        sel = [j for j, i in enumerate(idx) if members[i]["xi"] == xi]
        sub = {k: v[sel] for k, v in params.items()}
        total = torch.zeros(len(sel), dtype=torch.float64, device=device)
        with torch.no_grad():
            for a in range(0, config.n_eval, 512):
                ls, _ = models.masked_losses(models.forward(sub, inputs[a:a + 512]), tokens[a:a + 512],
                                             mask[a:a + 512])
                total += ls.double()
        count = float(mask.sum())
        for j, js in enumerate(sel):
            i = idx[js]
            final[i] = float(total[j]) / count
            floor[i], low[i], high[i] = ci.estimate, ci.low, ci.high


def code_hash() -> str:
    """Hash of the source of the code that determines results (not of reporting helpers or docs).

    Covers the whole of ``rgnb.models`` and the functions of ``rgnb.train`` and ``rgnb.chains`` that
    draw data, train and evaluate, so editing a chapter helper does not invalidate cached sweeps.
    """
    objects = (models, SweepConfig, _stable_seed, data_seed, lr_factor, fixed_set, _DataStream, _optimizer,
               _as_stream_dtype, train_step, train_sweep, _evaluate_chain,
               chains.spectrum, chains.make_chain, chains._ring_tau, chains.stationary, chains.sample_chain,
               chains.MaskSpec, chains.sample_mask, chains.apply_mask, chains.bayes_posteriors,
               chains.masked_token_losses, chains.ratio_interval)
    h = hashlib.sha256()
    for obj in objects:
        h.update(inspect.getsource(obj).encode())
    return h.hexdigest()[:16]


def sweep_key(config: SweepConfig, device: torch.device) -> str:
    """Cache key of a sweep: config, code version and source, device type."""
    return _cache.config_key(config, code_version=CODE_VERSION, rgnb_version=rgnb.__version__,
                             code_hash=code_hash(), device_type=torch.device(device).type)


# --------------------------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------------------------- #
@dataclasses.dataclass
class SweepResult:
    """A trained sweep, read back from its cache entry (arrays other than streams held in memory)."""

    config: SweepConfig
    key: str
    entry: _cache.Entry
    from_cache: bool
    members: list[dict[str, Any]]
    loss_steps: np.ndarray      # (n_logged,) step at the end of each logging window
    loss_curves: np.ndarray     # (M, n_logged) training loss, nats per masked token, window means
    loss_per_step: np.ndarray   # (steps, M)
    final_loss: np.ndarray      # (M,) held-out loss, nats per masked token
    bayes_floor: np.ndarray     # (M,) exact Bayes loss on the same held-out set
    bayes_low: np.ndarray       # (M,) its 95% CI (Monte Carlo over sequences)
    bayes_high: np.ndarray
    excess_loss: np.ndarray     # (M,) final_loss - bayes_floor (paired, same sequences)
    device: str
    wall_time: float
    env: dict

    @classmethod
    def from_entry(cls, config: SweepConfig, key: str, entry: _cache.Entry, from_cache: bool) -> "SweepResult":
        a = entry.array
        return cls(config=config, key=key, entry=entry, from_cache=from_cache, members=entry.meta["members"],
                   loss_steps=a("loss_steps"), loss_curves=a("loss_curves"), loss_per_step=a("loss_per_step"),
                   final_loss=a("final_loss"), bayes_floor=a("bayes_floor"), bayes_low=a("bayes_low"),
                   bayes_high=a("bayes_high"), excess_loss=a("excess_loss"), device=entry.meta["device"],
                   wall_time=float(entry.meta["wall_time_s"]), env=entry.meta["env"])

    def __len__(self) -> int:
        return len(self.members)

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

    def streams(self, member_index: int, stage: str) -> np.ndarray:
        """Residual stream h^0..h^L of a member on its chain's probe set, (L+1, n_probe, T, d) float32."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        if not 0 <= member_index < len(self.members):
            raise ValueError(f"member_index must lie in [0, {len(self.members) - 1}], got {member_index}")
        return np.asarray(self.entry.array(f"streams/{stage}/{member_index}"), dtype=np.float32)

    def probe_tokens(self, xi: float) -> np.ndarray:
        """Model inputs of the probe set of chain ``xi`` (mask id V at hidden positions), (n_probe, T) int64."""
        return self.entry.array("probe/inputs")[self._xi_index(xi)]

    def probe_targets(self, xi: float) -> np.ndarray:
        """True tokens of the probe set of chain ``xi`` (no mask), (n_probe, T) int64."""
        return self.entry.array("probe/tokens")[self._xi_index(xi)]

    def probe_mask(self, xi: float) -> np.ndarray:
        """Mask of the probe set of chain ``xi`` (True = hidden), (n_probe, T) bool."""
        return self.entry.array("probe/mask")[self._xi_index(xi)]

    def weights(self, member_index: int, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Trained parameters of one member with a model axis of 1 (for ``rgnb.models.forward``)."""
        m = self.members[member_index]
        j = self.select(depth=m["depth"]).index(member_index)
        return {k: torch.from_numpy(np.array(self.entry.array(f"weights/depth{m['depth']}/{k}", mmap=True)[j:j + 1]))
                .to(device) for k in models.PARAM_NAMES}

    def runs_table(self) -> list[dict[str, Any]]:
        """One row per model: config, seed, steps, wall time (the whole batched sweep's), device, losses."""
        c = self.config
        return [{"kind": m["kind"], "xi": m["xi"], "depth": m["depth"], "width": c.width, "seed": m["seed"],
                 "steps": c.steps, "batch": c.batch_size, "lr": c.lr, "V": c.vocab_size, "T": c.seq_len,
                 "final loss": float(self.final_loss[i]), "Bayes floor": float(self.bayes_floor[i]),
                 "excess": float(self.excess_loss[i]), "wall time (s, whole sweep)": self.wall_time,
                 "device": self.env.get("device_name", self.device)}
                for i, m in enumerate(self.members)]


def run_sweep(config: SweepConfig, device: torch.device | str = "auto", cache_dir=None,
              progress: bool = True) -> SweepResult:
    """Train (or load from the cache) every model of ``config`` on ``device``; see :class:`SweepResult`."""
    if not isinstance(config, SweepConfig):
        raise ValueError(f"config must be a SweepConfig, got {type(config).__name__}")
    device = resolve_device(device)
    key = sweep_key(config, device)
    entry = _cache.load(key, cache_dir)
    hit = entry is not None
    if not hit:
        arrays, meta = train_sweep(config, device, progress=progress)
        _cache.store(key, arrays, meta, cache_dir)
        entry = _cache.load(key, cache_dir, remove_bad=False)
        if entry is None:
            raise RuntimeError(f"cache entry {key} failed verification right after it was written")
    return SweepResult.from_entry(config, key, entry, from_cache=hit)


# --------------------------------------------------------------------------------------------- #
# What the training chapter reports
# --------------------------------------------------------------------------------------------- #
def excess_intervals(result: SweepResult) -> dict[tuple[int, float], Interval]:
    """Mean excess held-out loss over seeds with a Student-t 95% CI, per (depth, xi), nats."""
    return {(L, float(xi)): mean_ci(result.excess_loss[result.select(xi=xi, depth=L)])
            for L in result.config.depths for xi in result.config.xis}


def recovered_share(result: SweepResult, xi: float, depth: int) -> Interval:
    """Share of the context information recovered, ``(ln V - loss) / (ln V - Bayes)``, mean over seeds.

    ``ln V`` is the loss of the best context-free predictor (uniform stationary law); the share is
    1 at the Bayes floor and 0 for a network that ignores the context.
    """
    idx = result.select(xi=xi, depth=depth)
    log_v = math.log(result.config.vocab_size)
    share = (log_v - result.final_loss[idx]) / (log_v - result.bayes_floor[idx])
    return mean_ci(share)


def paper_chains(config: SweepConfig) -> tuple[float, float]:
    """The sweep's correlation lengths nearest the paper's two chains (xi ~ 1 and xi ~ 7)."""
    xis = np.asarray(config.xis, dtype=float)
    return float(xis[np.argmin(abs(xis - 1.0))]), float(xis[np.argmin(abs(xis - 7.0))])


def training_claims(result: SweepResult) -> list[Claim]:
    """The training chapter's claims, verdicts computed from the pre-stated thresholds above."""
    excess = excess_intervals(result)
    # Every (chain, depth) must pass: the worst is one whose whole CI fails if there is one (largest
    # lower end), else the one with the largest upper end.
    failing = {k: v for k, v in excess.items() if EXCESS_LOSS_THRESHOLD.verdict(v) == NOT_REPRODUCED}
    (worst_depth, worst_xi), worst = (max(failing.items(), key=lambda kv: kv[1].low) if failing
                                      else max(excess.items(), key=lambda kv: kv[1].high))
    rows = [check(f"Training reaches the exact Bayes floor on every chain and depth (ours: a precondition of "
                  f"the findings); worst: xi = {worst_xi:g}, depth {worst_depth}",
                  EXCESS_LOSS_THRESHOLD, worst, figure="excess-loss figure")]
    deepest = max(result.config.depths)
    for xi in paper_chains(result.config):
        rows.append(check(f"Depth-{deepest} networks use the context of the xi = {xi:g} chain (ours)",
                          RECOVERED_SHARE_THRESHOLD, recovered_share(result, xi, deepest),
                          figure="loss-curve figure"))
    return rows


def runs_markdown(result: SweepResult, digits: int = 3) -> str:
    """The table of runs as Markdown: one row per model (config, seed, steps, losses, wall time, device)."""
    rows = result.runs_table()
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:.{digits}g}" if isinstance(r[c], float) else str(r[c])
                                       for c in cols) + " |")
    return "\n".join(lines)
