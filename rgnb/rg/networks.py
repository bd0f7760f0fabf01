"""Local coarse-graining hierarchies: stacked b = 2 layers with spatial order, and their training.

Layer ``l`` (1..L) maps the ``n`` units of layer ``l - 1`` (layer 0 is the input chain of ``N`` sites)
to ``n / 2`` units, unit ``j`` seeing only the pair ``(2j, 2j + 1)``: ``z_j = act(w_j . y_pair + b_j)``.
Weights are *shared* (one ``w, b`` per layer: a convolution of stride 2) or *unshared* (one per unit:
locally connected). Layer ``l`` therefore has lattice spacing ``2^l`` input sites and its units have
neighbours. All models of one configuration (one per seed) form a leading model axis ``E`` and train
as one job; every seed has its own training data.

Each layer is trained on a local objective of its own input, detached from the layers below
(greedy, concurrent):

- ``"denoise"``: reconstruct the clean pair from the unit computed on the noisy pair
  (``y + sigma sd(y) eps``) with a local linear decoder ``y_hat = v z + c``; mean squared error in
  units of the pair's variance;
- ``"rsmi"``: maximise the Gaussian (linear-predictive) lower bound on the mutual information between
  the unit ``z_j`` and its environment, ``I_G = -1/2 ln(1 - R^2)``, ``R^2`` of the least-squares
  regression of ``z_j`` on the ``env`` units on each side of the pair beyond ``buffer`` units (one
  regression per unit position, fitted on the batch), in the spirit of RSMI (Koch-Janusz and Ringel 2018).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from rgnb.rg.config import ACTIVATION, ARCHITECTURES, LAW_BY_NAME, OBJECTIVES, InputLaw, RGSizes
from rgnb.rg.estimators import layer_parameter
from rgnb.rg.gaussian_chain import gaussian_chain_natural, sample_gaussian_chain
from rgnb.rg.ising import sample_ising_chain
from rgnb.rg.theory import shuffle_sites
from rgnb.validate import check_choice, check_float, check_int, check_seed, check_size


@dataclasses.dataclass(frozen=True)
class HierarchySpec:
    """Architecture and objective of one configuration."""

    n_sites: int
    n_layers: int
    architecture: str      # "shared" | "unshared"
    activation: str        # "tanh" | "linear"
    objective: str         # "denoise" | "rsmi"
    noise: float = 0.5
    buffer: int = 1
    env: int = 2

    def __post_init__(self) -> None:
        check_int("n_sites", self.n_sites, 4, 2 ** 16)
        check_int("n_layers", self.n_layers, 1, 12)
        if self.n_sites % 2 ** self.n_layers or self.n_sites // 2 ** self.n_layers < 2:
            raise ValueError(f"n_sites must be a multiple of 2^(n_layers + 1); got n_sites={self.n_sites}, "
                             f"n_layers={self.n_layers}")
        check_choice("architecture", self.architecture, ARCHITECTURES)
        check_choice("activation", self.activation, ("tanh", "linear"))
        check_choice("objective", self.objective, OBJECTIVES)
        check_float("noise", self.noise, 0.0, 10.0)
        check_int("buffer", self.buffer, 0, 16)
        check_int("env", self.env, 1, 16)

    def units(self, layer: int) -> int:
        """Number of units of layer ``layer`` (0 = input)."""
        return self.n_sites // 2 ** layer


def init_hierarchy(spec: HierarchySpec, n_models: int, gen: torch.Generator) -> list[dict]:
    """Random parameters, one dict per layer: ``w`` (E, P, 2), ``b`` (E, P), decoder ``v`` (E, P, 2),
    ``c`` (E, P, 2); ``P = 1`` (shared) or the layer's number of units (unshared). float32, CPU."""
    E = check_int("n_models", n_models, 1, 4096)
    out = []
    for l in range(1, spec.n_layers + 1):
        P = 1 if spec.architecture == "shared" else spec.units(l)
        w = torch.randn(E, 1, 2, generator=gen).expand(E, P, 2).clone()
        w = w + 0.1 * torch.randn(E, P, 2, generator=gen) if P > 1 else w
        out.append({"w": w / math.sqrt(2), "b": torch.zeros(E, P),
                    "v": 0.5 * torch.randn(E, P, 2, generator=gen), "c": torch.zeros(E, P, 2)})
    return out


def decimation_hierarchy(spec: HierarchySpec, n_models: int, gain: float = 5.0) -> list[dict]:
    """Hand-built hierarchy implementing exact decimation: every unit keeps the first site of its pair
    (``w = (gain, 0)``, ``b = 0``), a monotone function of it."""
    layers = init_hierarchy(spec, n_models, torch.Generator().manual_seed(0))
    for p in layers:
        p["w"] = torch.zeros_like(p["w"])
        p["w"][..., 0] = gain
        p["b"] = torch.zeros_like(p["b"])
    return layers


def _act(a: torch.Tensor, activation: str) -> torch.Tensor:
    return torch.tanh(a) if activation == "tanh" else a


def layer_forward(p: dict, y: torch.Tensor, activation: str) -> torch.Tensor:
    """One local layer: ``(E, B, n) -> (E, B, n / 2)``."""
    E, B, n = y.shape
    pairs = y.reshape(E, B, n // 2, 2)
    return _act((pairs * p["w"][:, None]).sum(-1) + p["b"][:, None], activation)


def forward(layers: list[dict], x: torch.Tensor, activation: str) -> list[torch.Tensor]:
    """Every layer's output on input ``x`` (E, B, N): ``[x, z_1, ..., z_L]``."""
    out = [x]
    for p in layers:
        out.append(layer_forward(p, out[-1], activation))
    return out


def _env_index(n: int, buffer: int, env: int) -> torch.Tensor:
    """(n/2, 2 env) indices into the layer input for each unit's environment; ``n`` marks "outside"."""
    j = np.arange(n // 2)[:, None]
    left = 2 * j - buffer - env + np.arange(env)[None, :]
    right = 2 * j + 2 + buffer + np.arange(env)[None, :]
    idx = np.concatenate([left, right], axis=1)
    idx[(idx < 0) | (idx >= n)] = n
    return torch.as_tensor(idx, dtype=torch.long)


def gaussian_mi(z: torch.Tensor, y: torch.Tensor, buffer: int, env: int, ridge: float = 1e-3) -> torch.Tensor:
    """Per-unit Gaussian MI bound ``-1/2 ln(1 - R^2)`` between units ``z`` (E, B, n/2) and their
    environments in ``y`` (E, B, n); returns (E, n/2) nats."""
    E, B, n = y.shape
    idx = _env_index(n, buffer, env)
    yp = torch.cat([y, torch.zeros(E, B, 1, dtype=y.dtype)], dim=2)
    e = yp[:, :, idx]                                               # (E, B, m, d)
    e = e - e.mean(1, keepdim=True)
    zc = z - z.mean(1, keepdim=True)
    G = torch.einsum("ebmd,ebmf->emdf", e, e) / B + ridge * torch.eye(e.shape[-1])
    cz = torch.einsum("ebmd,ebm->emd", e, zc) / B
    vz = (zc ** 2).mean(1) + 1e-8
    explained = (cz * torch.linalg.solve(G, cz.unsqueeze(-1)).squeeze(-1)).sum(-1)
    r2 = torch.clamp(explained / vz, 0.0, 1 - 1e-6)
    return -0.5 * torch.log1p(-r2)


def local_losses(layers: list[dict], x: torch.Tensor, spec: HierarchySpec,
                 noise: torch.Tensor | None = None) -> torch.Tensor:
    """Local objective of each layer on its (detached) clean input: (E, L), lower is better.

    ``noise``: a list-free draw of standard normals (E, B, N) reused per layer (its first n columns);
    needed for ``"denoise"``.
    """
    losses = []
    y = x
    for p in layers:
        y = y.detach()
        z = layer_forward(p, y, spec.activation)
        if spec.objective == "denoise":
            E, B, n = y.shape
            sd = y.std(1, keepdim=True) + 1e-6
            zn = layer_forward(p, y + spec.noise * sd * noise[..., :n], spec.activation)
            yhat = p["v"][:, None] * zn[..., None] + p["c"][:, None]
            err = (yhat - y.reshape(E, B, n // 2, 2)) / sd.reshape(E, 1, n // 2, 2)
            losses.append((err ** 2).mean(dim=(1, 2, 3)))
        else:
            losses.append(-gaussian_mi(z, y, spec.buffer, spec.env).mean(1))
        y = z
    return torch.stack(losses, 1)


# --------------------------------------------------------------------------------------------- #
# Data: one independent generator per seed
# --------------------------------------------------------------------------------------------- #
def law_sample_seed(base_seed: int, law: InputLaw, seed_index: int) -> int:
    """The integer seed of one seed's data for one input law (independent streams by SeedSequence)."""
    law_index = list(LAW_BY_NAME).index(law.name)
    ss = np.random.SeedSequence([check_seed("base_seed", base_seed), law_index, check_int("seed_index", seed_index, 0)])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def sample_law(law: InputLaw, n: int, length: int, seed: int) -> np.ndarray:
    """``n`` windows of ``length`` sites of an input law, float32 (n, length), unit marginal variance."""
    check_size("n * length", n * length, 4)
    if law.family == "ising":
        return sample_ising_chain(law.param, 0.0, n, length, seed=seed).astype(np.float32)
    if law.family == "gauss":
        r, K, h = gaussian_chain_natural(law.param, 1.0, 0.0)
        return sample_gaussian_chain(r, K, h, n, length, seed=seed).astype(np.float32)
    if law.family == "gamma":
        k = law.param
        g = np.random.default_rng(check_seed("seed", seed)).gamma(k, 1.0, size=(n, length))
        return ((g - k) / math.sqrt(k)).astype(np.float32)
    raise ValueError(f"family must be one of ('ising', 'gauss', 'gamma'), got {law.family!r}")


def seed_data(law: InputLaw, sz: RGSizes, base_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Training pools (E, pool, N) and probes (E, n_probe, N), each seed from its own generator."""
    pools, probes = [], []
    for s in range(sz.n_seeds):
        x = sample_law(law, sz.pool + sz.n_probe, sz.n_sites, law_sample_seed(base_seed, law, s))
        pools.append(x[: sz.pool]), probes.append(x[sz.pool:])
    return torch.as_tensor(np.stack(pools)), torch.as_tensor(np.stack(probes))


# --------------------------------------------------------------------------------------------- #
# Training and measurement
# --------------------------------------------------------------------------------------------- #
@dataclasses.dataclass
class HierarchyResult:
    """One configuration (law, objective, architecture), all seeds.

    ``theta`` (E, L + 1): the layer parameter of the trained hierarchy on the probe (layer 0 = input);
    ``theta_init`` the same at initialisation (null: random untrained layers); ``theta_shuffled`` of the trained layers on the
    probe with its input sites shuffled (the order-breaking null); ``loss_init`` and ``loss_final`` (E, L)
    the local objectives on the probe; ``grad_norm`` (E,) the norm of the gradient of the summed local
    objectives at the end of training (on the first ``GRAD_SAMPLES`` probe samples: the stationarity
    criterion); ``first_w`` (E, 2) layer-1 weights (mean over units) in a sign-fixed gauge.
    """

    law: str
    objective: str
    architecture: str
    theta: np.ndarray
    theta_init: np.ndarray
    theta_shuffled: np.ndarray
    loss_init: np.ndarray
    loss_final: np.ndarray
    grad_norm: np.ndarray
    first_w: np.ndarray
    wall_s: float


#: Probe samples on which the final gradient norm (the stationarity criterion) is evaluated.
GRAD_SAMPLES = 1024
#: Probe samples on which the input layer's parameter is measured (it only describes the input law).
INPUT_SAMPLES = 512
#: Probe samples on which the layers between the input and the feature layer are measured (shown, not tested: the
#: feature layer, the only one a claim reads, is measured on the whole probe).
INNER_SAMPLES = 1024


def measure(layers: list[dict], probe: torch.Tensor, spec: HierarchySpec, family: str,
            perm_gen: np.random.Generator | None = None, input_samples: int | None = INPUT_SAMPLES,
            theta_input: np.ndarray | None = None, inner_samples: int | None = INNER_SAMPLES) -> np.ndarray:
    """Layer parameters (E, L + 1) of a hierarchy on ``probe`` (E, B, N); with ``perm_gen`` each
    layer's units are first permuted (one permutation per layer). The feature layer (the last) on the whole probe;
    layer 0 on the first ``input_samples`` samples and the layers between on the first ``inner_samples`` (None:
    all), or layer 0 from ``theta_input`` (E,) where it is already known (it does not depend on the layers)."""
    with torch.no_grad():
        outs = forward(layers, probe, spec.activation)
    th = []
    for l, z in enumerate(outs):
        if l == 0 and theta_input is not None and perm_gen is None:
            th.append(np.asarray(theta_input, dtype=np.float64))
            continue
        keep = input_samples if l == 0 else inner_samples if l < len(outs) - 1 else None
        z = (z[:, :keep] if keep else z).double().numpy()
        if perm_gen is not None:
            z = z[..., perm_gen.permutation(z.shape[-1])]
        th.append(layer_parameter(z, family))
    return np.stack(th, 1)


def gradient_norm(layers: list[dict], x: torch.Tensor, spec: HierarchySpec, noise: torch.Tensor | None) -> np.ndarray:
    """Per model, the Euclidean norm of the gradient of the summed local objectives on ``x`` over all of its
    parameters (E,)."""
    params = [t.detach().clone().requires_grad_() for p in layers for t in p.values()]
    keys = [k for p in layers for k in p]
    rebuilt = [dict(zip(keys[4 * i: 4 * i + 4], params[4 * i: 4 * i + 4])) for i in range(len(layers))]
    local_losses(rebuilt, x, spec, noise).sum().backward()
    sq = sum((t.grad.double() ** 2).reshape(t.shape[0], -1).sum(1) for t in params if t.grad is not None)
    return np.sqrt(sq.numpy())


def fit_hierarchies(spec: HierarchySpec, family: str, pool: torch.Tensor, probe: torch.Tensor, sz: RGSizes,
                    gen: torch.Generator, perm_seed: int, input_samples: int | None = INPUT_SAMPLES,
                    nulls: bool = True) -> dict:
    """Train ``E = pool.shape[0]`` hierarchies of ``spec`` as one batched job (model ``e`` on ``pool[e]``) and
    measure them on ``probe``: the fields of :class:`HierarchyResult` (without its labels) and ``layers``;
    ``nulls=False`` skips the site-shuffled measurement (nan)."""
    E = pool.shape[0]
    layers = init_hierarchy(spec, E, gen)
    probe_noise = torch.randn(probe.shape, generator=gen) if spec.objective == "denoise" else None
    with torch.no_grad():
        loss_init = local_losses(layers, probe, spec, probe_noise).numpy().astype(np.float64)
    theta_init = measure(layers, probe, spec, family, input_samples=input_samples)
    theta0 = theta_init[:, 0]
    params = [t.requires_grad_() for p in layers for t in p.values()]
    opt = torch.optim.Adam(params, lr=sz.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - 0.9 * s / sz.steps)
    for _ in range(sz.steps):
        idx = torch.randint(0, pool.shape[1], (E, sz.batch_size), generator=gen)
        x = torch.gather(pool, 1, idx[..., None].expand(E, sz.batch_size, pool.shape[2]))
        noise = torch.randn(x.shape, generator=gen) if spec.objective == "denoise" else None
        loss = local_losses(layers, x, spec, noise)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        sched.step()
    layers = [{k: t.detach() for k, t in p.items()} for p in layers]
    with torch.no_grad():
        loss_final = local_losses(layers, probe, spec, probe_noise).numpy().astype(np.float64)
        w1 = layers[0]["w"].double().mean(1).numpy()
    g = GRAD_SAMPLES
    grad = gradient_norm(layers, probe[:, :g], spec, None if probe_noise is None else probe_noise[:, :g])
    rng = np.random.default_rng(perm_seed)
    theta = measure(layers, probe, spec, family, input_samples=input_samples, theta_input=theta0)
    theta_shuffled = np.full_like(theta, np.nan)
    if nulls:
        shuffled = torch.as_tensor(shuffle_sites(probe.numpy(), rng))
        theta_shuffled = measure(layers, shuffled, spec, family, input_samples=input_samples)
    w1 = w1 * np.where(w1.sum(1, keepdims=True) < 0, -1.0, 1.0)
    return {"layers": layers, "theta": theta, "theta_init": theta_init, "theta_shuffled": theta_shuffled, "loss_init": loss_init, "loss_final": loss_final, "grad_norm": grad,
            "first_w": w1}


def train_hierarchy(law_name: str, objective: str, architecture: str, sz: RGSizes, base_seed: int = 0,
                    data: tuple[torch.Tensor, torch.Tensor] | None = None) -> HierarchyResult:
    """Train ``sz.n_seeds`` hierarchies of one configuration as one batched job and measure them."""
    import time

    law = LAW_BY_NAME[check_choice("law_name", law_name, tuple(LAW_BY_NAME))]
    check_choice("objective", objective, OBJECTIVES)
    if objective == "rsmi" and law.family == "gamma":
        raise ValueError("objective 'rsmi' is undefined on i.i.d. data (I(H; E) = 0 for every coarse variable)")
    t0 = time.perf_counter()
    spec = HierarchySpec(sz.n_sites, sz.n_layers, architecture, ACTIVATION[law.family], objective, sz.noise,
                         sz.buffer, sz.env)
    pool, probe = data if data is not None else seed_data(law, sz, base_seed)
    cfg = [list(LAW_BY_NAME).index(law.name), OBJECTIVES.index(objective), ARCHITECTURES.index(architecture)]
    state = np.random.SeedSequence([check_seed("base_seed", base_seed), *cfg]).generate_state(2, dtype=np.uint64)
    gen = torch.Generator().manual_seed(int(state[0] >> np.uint64(1)))
    out = fit_hierarchies(spec, law.family, pool, probe, sz, gen, int(state[1] >> np.uint64(1)))
    out.pop("layers")
    return HierarchyResult(law.name, objective, architecture, **out, wall_s=time.perf_counter() - t0)
