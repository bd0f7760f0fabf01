"""What is trained: :class:`SweepConfig`, the sweeps of each profile (:data:`SWEEPS`) and their tuning.

A profile trains several sweeps, one per chain family and masking (potts, ring, the shuffled-chain
null control, isolated masking) and per reading of "pure MLP residual stack" (the mixer with
pre-LayerNorm, the main reading; without LayerNorm, the robustness reading). The tuning that fixed
the reference budgets, judged on the convergence gate only (``rgnb.mlp.gate``), is data:
``results/tuning.json``, read by ``rgnb.mlp.tuning`` (:data:`TUNING`, :data:`NO_LAYERNORM_TUNING`,
:data:`NO_LAYERNORM_FIRST_RUN` are its tables).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from rgnb import chains
from rgnb.mlp import model
from rgnb.mlp.tuning import load_tuning
from rgnb.profiles import resolve_profile, sizes_for
from rgnb.validate import check_choice, check_float, check_int, check_seed

#: Chain kinds a sweep can train on: the chain families and the shuffled-chain null control.
SHUFFLED = "shuffled"
TRAIN_KINDS = tuple(chains.KINDS) + (SHUFFLED,)
#: Readings of "pure MLP residual stack" a sweep can train: the MLP-Mixer with pre-LayerNorm (the
#: book's main reading) and the same mixer without LayerNorm (the robustness reading).
ARCHITECTURES = ("mixer", "mixer-no-layernorm")
#: Upper bounds of a sweep's sizes (refuse requests that would run for days or exhaust memory).
MAX_STEPS = 10**6
MAX_MODELS = 10**4
MAX_WIDTH = 4096
MAX_DEPTH = 128
MAX_SEQ_LEN = 4096
MAX_BATCH = 2**16
MAX_SEQUENCES = 10**6


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Everything that determines a sweep's results (hashed for the cache).

    Chains ``kind`` with ``vocab_size`` V and correlation lengths ``xis``; sequences of ``seq_len``
    T masked by ``mask``; models of ``width`` d and each depth in ``depths``; one model per
    (depth, xi, seed). AdamW with peak ``lr``, linear warm-up over ``warmup`` steps, cosine decay to
    ``min_lr_frac * lr`` at ``steps``; ``batch_size`` fresh sequences per model per step, drawn in
    chunks of ``data_chunk`` steps. ``n_probe`` probe sequences per chain (the findings measure the
    residual streams on them), ``n_eval`` held-out sequences per chain (final loss and exact Bayes
    floor), per-step losses averaged over windows of ``log_every`` steps.
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
    architecture: str = "mixer"

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, TRAIN_KINDS)
        check_choice("architecture", self.architecture, ARCHITECTURES)
        for name in ("xis", "depths", "seeds"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{name} must be a non-empty tuple, got {value!r}")
            if len(set(value)) != len(value):
                raise ValueError(f"{name} must not repeat values, got {value!r}")
        for d in self.depths:
            check_int("depth", d, 1, MAX_DEPTH)
        for s in self.seeds:
            check_seed("seed", s)
        for xi in self.xis:
            check_float("xi", xi, chains.XI_RANGE[0], chains.XI_RANGE[1])
        check_int("vocab_size", self.vocab_size, 3 if self.kind == "ring" else 2, 4096)
        check_int("seq_len", self.seq_len, 2, MAX_SEQ_LEN)
        check_int("width", self.width, 1, MAX_WIDTH)
        check_int("token_mult", self.token_mult, 1, 64)
        check_int("channel_mult", self.channel_mult, 1, 64)
        if not isinstance(self.mask, chains.MaskSpec):
            raise ValueError(f"mask must be a chains.MaskSpec, got {self.mask!r}")
        check_int("steps", self.steps, 1, MAX_STEPS)
        check_int("batch_size", self.batch_size, 1, MAX_BATCH)
        check_float("lr", self.lr, 0.0, 1.0, low_open=True)
        check_int("warmup", self.warmup, 0, self.steps - 1)
        check_float("min_lr_frac", self.min_lr_frac, 0.0, 1.0)
        check_float("weight_decay", self.weight_decay, 0.0, 10.0)
        check_float("beta1", self.beta1, 0.0, 0.999999)
        check_float("beta2", self.beta2, 0.0, 0.999999)
        check_int("data_chunk", self.data_chunk, 1, 100_000)
        check_int("log_every", self.log_every, 1, self.steps)
        if self.steps % self.log_every:
            raise ValueError(f"log_every must divide steps = {self.steps}, got {self.log_every}")
        check_int("n_probe", self.n_probe, 2, MAX_SEQUENCES)
        check_int("n_eval", self.n_eval, 2, MAX_SEQUENCES)
        check_seed("probe_seed", self.probe_seed)
        check_seed("eval_seed", self.eval_seed)
        check_choice("stream_dtype", self.stream_dtype, ("float32", "float16"))
        check_int("number of models", len(self.members()), 1, MAX_MODELS)

    def model_config(self, depth: int) -> model.ModelConfig:
        return model.ModelConfig(self.vocab_size, self.seq_len, self.width, depth, self.token_mult,
                                  self.channel_mult, layer_norm=self.architecture == "mixer")

    def members(self) -> list[dict[str, Any]]:
        """One dict per model, in storage order: depth-major, then xi, then seed."""
        return [{"xi": float(xi), "seed": int(s), "depth": int(L), "kind": self.kind}
                for L in self.depths for xi in self.xis for s in self.seeds]
#: The reference profile's chains: correlation lengths of the grid (the paper's xi ~ 1 and ~ 7 and
#: points between), shared by the potts and ring families.
REFERENCE_XIS = (1.0, 3.0, 7.0)
ISOLATED_MASK = chains.MaskSpec(rate=0.15, span=1)


def _reference(kind: str, xis=REFERENCE_XIS, mask: chains.MaskSpec = chains.DEFAULT_MASK) -> SweepConfig:
    # The budget and the grid (xi = 0.5 dropped) were tuned on the gate: results/tuning.json, "main".
    return SweepConfig(kind=kind, vocab_size=8, seq_len=16, xis=tuple(xis), depths=(8,), seeds=tuple(range(10)),
                       width=32, channel_mult=2, mask=mask, steps=REFERENCE_STEPS, batch_size=64, lr=1e-2,
                       warmup=REFERENCE_STEPS // 20, data_chunk=50, log_every=50, n_probe=1024, n_eval=2000)
#: Steps of the reference main reading, chosen by the tuning in results/tuning.json ("main").
REFERENCE_STEPS = 5000
#: The tuning history behind the reference budgets (``rgnb.mlp.tuning``, read from results/tuning.json).
_HISTORY = load_tuning()
#: The runs behind REFERENCE_STEPS: ``(budget, chain, {xi: (worst excess nats, smallest recovered share,
#: models passing the gate)})``, judged on the convergence gate only.
TUNING = _HISTORY.main_table()
#: Sweeps per profile: family name -> SweepConfig. "shuffled" is the null control (same seeds,
#: depths and budget as the chains it controls; its xi is a nominal label).
#: smoke: the training chapter in well under a minute on a 2-core CPU (not a test of the papers).
#: reference: the stored book (shipped weights; about three hours from scratch on a 2-core CPU, two of
#: them for the main reading).
#: full: paper scale (depths to 16, width 64, T = 32), on a GPU.
#: Families named ``<kind><NO_LAYERNORM_SUFFIX>`` train the robustness reading (the mixer without
#: LayerNorm) on the paper's chains xi ~ 1 and ~ 7 and on the shuffled-chain null control.
MIXER, NO_LAYERNORM = ARCHITECTURES
NO_LAYERNORM_SUFFIX = "-nolayernorm"
#: Steps of the reference robustness sweeps, chosen by the tuning and the first run in results/tuning.json
#: ("no_layernorm"): without LayerNorm the networks converge more slowly.
NO_LAYERNORM_STEPS = 10000
#: The CPU tuning runs behind NO_LAYERNORM_STEPS: ``(budget, (held-out excess nats of seed 0, of seed 1))``.
NO_LAYERNORM_TUNING = _HISTORY.no_layernorm_table()
#: The first reference run of the robustness sweeps: ``{"steps", "passed", "failed": ((xi, seed, excess
#: nats), ...)}``; its statistics were seen, as descriptive values, before the budget was raised.
NO_LAYERNORM_FIRST_RUN = _HISTORY.first_run_record()


def _reference_no_layernorm(kind: str, xis) -> SweepConfig:
    return dataclasses.replace(_reference(kind, xis=xis), architecture=NO_LAYERNORM, steps=NO_LAYERNORM_STEPS,
                               warmup=NO_LAYERNORM_STEPS // 20)


def _full(kind: str, architecture: str = MIXER) -> SweepConfig:
    # Untuned (results/tuning.json, "full"). Without LayerNorm the steps are scaled like the reference's
    # (NO_LAYERNORM_STEPS / REFERENCE_STEPS).
    xis = ((1.0,) if kind == SHUFFLED else (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0) if architecture == MIXER
           else (1.0, 7.0))
    steps = 6000 if architecture == MIXER else 6000 * NO_LAYERNORM_STEPS // REFERENCE_STEPS
    return SweepConfig(kind=kind, vocab_size=8, seq_len=32, xis=xis, depths=(4, 8, 16), seeds=tuple(range(10)),
                       width=64, steps=steps, batch_size=256, lr=3e-3, warmup=steps // 20, data_chunk=100,
                       log_every=50, n_probe=512, n_eval=8192, architecture=architecture)


SWEEPS: dict[str, dict[str, SweepConfig]] = {
    "smoke": {"potts": SweepConfig(channel_mult=2, xis=(1.0, 3.0, 7.0), depths=(4,)),
              "ring": SweepConfig(kind="ring", channel_mult=2, xis=(1.0, 7.0), depths=(4,)),
              SHUFFLED: SweepConfig(kind=SHUFFLED, channel_mult=2, xis=(1.0,), depths=(4,)),
              "potts" + NO_LAYERNORM_SUFFIX: SweepConfig(channel_mult=2, xis=(1.0, 7.0), depths=(4,),
                                                         architecture=NO_LAYERNORM),
              SHUFFLED + NO_LAYERNORM_SUFFIX: SweepConfig(kind=SHUFFLED, channel_mult=2, xis=(1.0,), depths=(4,),
                                                          architecture=NO_LAYERNORM)},
    "reference": {"potts": _reference("potts"), "ring": _reference("ring"),
                  SHUFFLED: _reference(SHUFFLED, xis=(1.0,)),
                  "potts-isolated": _reference("potts", xis=(1.0, 7.0), mask=ISOLATED_MASK),
                  "potts" + NO_LAYERNORM_SUFFIX: _reference_no_layernorm("potts", (1.0, 7.0)),
                  SHUFFLED + NO_LAYERNORM_SUFFIX: _reference_no_layernorm(SHUFFLED, (1.0,))},
    "full": {**{kind: _full(kind) for kind in ("potts", "ring", SHUFFLED)},
             **{kind + NO_LAYERNORM_SUFFIX: _full(kind, NO_LAYERNORM) for kind in ("potts", SHUFFLED)}},
}
#: The family whose chains the paper's findings are read on, and the null-control family.
PAPER_FAMILY = "potts"


@dataclasses.dataclass(frozen=True)
class ScanShape:
    """One network shape of the P1 scan (protocol v3): ``depth`` L residual blocks, vocabulary ``vocab_size`` V."""

    depth: int
    vocab_size: int

    @property
    def suffix(self) -> str:
        """Family-name suffix of the shape's sweeps, e.g. ``-L4V8``."""
        return f"-L{self.depth}V{self.vocab_size}"


#: The scan's depths (at V = 8) and vocabularies (at L = 8) of protocol v3; L = 8, V = 8 is the main sweep
#: (families ``potts`` and ``shuffled``), so the scan trains the four other shapes.
SCAN_DEPTHS = (4, 8, 16)
SCAN_VOCABS = (4, 8, 16)
SCAN_XIS = (1.0, 7.0)
SCAN_SHAPES = tuple([ScanShape(L, 8) for L in SCAN_DEPTHS] + [ScanShape(8, V) for V in SCAN_VOCABS if V != 8])
MAIN_SHAPE = ScanShape(8, 8)


#: Scan shapes whose budget had to be raised above REFERENCE_STEPS to pass the gate (results/tuning.json, "scan":
#: V = 16 passed 17/20 at 5000 steps; its three failed networks passed at 8000). Both sweeps of a pair share it.
SCAN_STEPS = {ScanShape(8, 16): 8000}


def _reference_scan(kind: str, shape: ScanShape) -> SweepConfig:
    # The reference budget (REFERENCE_STEPS, tuned at L = 8, V = 8) carried over to every shape, raised only where
    # a shape's gate failed (SCAN_STEPS): each shape's gate is its tuning record (results/tuning.json, "scan").
    xis = (1.0,) if kind == SHUFFLED else SCAN_XIS
    steps = SCAN_STEPS.get(shape, REFERENCE_STEPS)
    return dataclasses.replace(_reference(kind, xis=xis), depths=(shape.depth,), vocab_size=shape.vocab_size,
                               steps=steps, warmup=steps // 20)


def _smoke_scan(kind: str, shape: ScanShape) -> SweepConfig:
    xis = (1.0,) if kind == SHUFFLED else SCAN_XIS
    return SweepConfig(kind=kind, channel_mult=2, xis=xis, depths=(shape.depth // 2,), vocab_size=shape.vocab_size,
                       steps=100, warmup=10, n_probe=64, n_eval=200)


def _scan(build) -> dict[str, SweepConfig]:
    return {kind + shape.suffix: build(kind, shape) for shape in SCAN_SHAPES if shape != MAIN_SHAPE
            for kind in (PAPER_FAMILY, SHUFFLED)}


#: The P1 scan of each profile (protocol v3, issue 28): family ``<kind>-L<depth>V<vocab>`` -> SweepConfig,
#: the paper's chains xi ~ 1 and ~ 7 and the shuffled-chain null at each shape but the main one. Shipped
#: with the reference weights sweep by sweep (``rgnb.mlp.shipped.load_scan``); not part of :data:`SWEEPS`,
#: which the chapters load whole.
SCAN: dict[str, dict[str, SweepConfig]] = {"smoke": _scan(_smoke_scan), "reference": _scan(_reference_scan)}


def scan_sweeps_for(profile: str) -> dict[str, SweepConfig]:
    """The scan sweeps of a profile (``smoke``, ``reference`` or ``auto``; ``full`` has none yet): family -> config."""
    from rgnb.profiles import PROFILES
    check_choice("profile", profile, PROFILES)
    resolved = resolve_profile(profile)
    return dict(SCAN.get(resolved, {}))


def scan_shape(family: str) -> ScanShape:
    """The :class:`ScanShape` of a scan family name (``potts-L4V8`` -> L = 4, V = 8)."""
    for shape in SCAN_SHAPES:
        if family.endswith(shape.suffix):
            return shape
    raise ValueError(f"family {family!r} is not a scan family (names end in one of "
                     f"{[s.suffix for s in SCAN_SHAPES]})")
#: Measured CPU time of one training step of one depth-8 model (width 32, T = 16, batch 64, float32, 1
#: torch thread) on the shared 2-core machine under load (10 models x 60 steps, process CPU time; the
#: issue's quiet-machine figure is 13 ms per depth-4 model, 26 ms at depth 8). Scales with depth.
CPU_MS_PER_MODEL_STEP_DEPTH8 = 32.9


def cpu_training_estimate_h(profile: str = "reference", cores: int = 2, families=None,
                            ms_per_model_step: float = CPU_MS_PER_MODEL_STEP_DEPTH8) -> float:
    """Estimated wall time (hours) to train the sweeps of ``profile`` (``families``, default all) from
    scratch on ``cores`` CPU cores, one single-threaded process per core, from ``ms_per_model_step``
    (CPU ms of one step of one depth-8 network at batch 64; default :data:`CPU_MS_PER_MODEL_STEP_DEPTH8`),
    linear in depth and batch."""
    cores = check_int("cores", cores, 1, 1024)
    check_float("ms_per_model_step", ms_per_model_step, 0.0, math.inf, low_open=True)
    sweeps = sweeps_for(profile)
    families = list(sweeps) if families is None else [check_choice("family", f, tuple(sweeps)) for f in families]
    ms = sum(len(c.members()) / len(c.depths) * sum(L / 8 for L in c.depths) * c.steps * ms_per_model_step
             * (c.batch_size / 64) for c in (sweeps[f] for f in families))
    return ms / 1000 / 3600 / cores


def sweeps_for(profile: str) -> dict[str, SweepConfig]:
    """The sweeps of a profile (``smoke``, ``reference``, ``full`` or ``auto``): family -> config."""
    from rgnb.profiles import PROFILES
    check_choice("profile", profile, PROFILES)
    return sizes_for(SWEEPS, resolve_profile(profile))


def sweep_for(profile: str, family: str = PAPER_FAMILY) -> SweepConfig:
    """One sweep of a profile (default: the paper's chain family)."""
    sweeps = sweeps_for(profile)
    return sweeps[check_choice("family", family, tuple(sweeps))]
#: Readings of "pure MLP residual stack" (``rgnb.mlp.sweeps.ARCHITECTURES``): the main one (MLP-Mixer with
#: pre-LayerNorm) and the robustness one (the same mixer without LayerNorm), with the suffix of the
#: robustness reading's family names.
MAIN_READING, ROBUSTNESS_READING = ARCHITECTURES
READING_SUFFIX = {MAIN_READING: "", ROBUSTNESS_READING: NO_LAYERNORM_SUFFIX}


def reading(results: dict, architecture: str = MAIN_READING) -> dict:
    """The sweeps of one reading, family -> SweepResult, named as in the main reading (``potts``,
    ``shuffled``, ...: the reading's suffix dropped), so the findings' functions apply unchanged."""
    suffix = READING_SUFFIX[check_choice("architecture", architecture, tuple(READING_SUFFIX))]
    out = {}
    for family, r in results.items():
        if r.config.architecture != architecture:  # (the reading names are the architecture names)
            continue
        if not family.endswith(suffix):
            raise ValueError(f"family {family!r} trains {architecture!r} but does not end in {suffix!r}")
        out[family[:len(family) - len(suffix)] if suffix else family] = r
    return out
