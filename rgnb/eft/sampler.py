"""The exact conditional-Gaussian sampler of pre-activation ResNets, its Monte Carlo moments, the
two-sample check against the weight-matrix simulation, and the throughput benchmark.

Model: inputs ``X`` (k, n0); width n; ``h^0 = W^0 x``, ``W^0_ij ~ N(0, sigma_0^2/n0)``; for l = 0..L-1,
eps = T/L, ``h^{l+1} = h^l + sqrt(eps) sigma_w W^{l+1} phi(h^l)``, ``W^{l+1}_ij ~ N(0, 1/n)``. Given
h^l the rows of ``W phi(h^l)`` are i.i.d. N(0, S^l), so the exact sampler draws
``h^{l+1}_i = h^l_i + sqrt(eps) sigma_w (S^l)^{1/2} z_i`` at O(n k^2) per layer.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import numpy as np
import torch

from rgnb.eft.gaussian import Activation, get_activation
from rgnb.eft.kernels import check_inputs, default_inputs, input_kernel, n_packed, pack, pair_labels, psd_sqrt
from rgnb.validate import check_choice, check_float, check_int, check_seed, check_size

__all__ = ["simulate_kernels", "KernelMoments", "kernel_moments", "TwoSampleResult", "two_sample_tests",
           "holm_min_p", "throughput", "benchmark", "benchmark_main", "MAX_WIDTH", "MAX_DEPTH", "MAX_NETWORKS"]


def _psd_sqrt_torch(S: torch.Tensor) -> torch.Tensor:
    """A factor A with A A^T = S for a batch (..., k, k): Cholesky, eigen-sqrt where it fails."""
    A, info = torch.linalg.cholesky_ex(S)
    bad = info != 0
    if bool(bad.any()):
        lam, U = torch.linalg.eigh(S[bad])
        A[bad] = U * lam.clamp_min(0).sqrt().unsqueeze(-2)
    return A


def _randn(shape, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """Standard normals drawn in float32 (several times faster on CPU) and cast to float64: the
    arithmetic and every moment downstream are float64."""
    return torch.randn(*shape, generator=gen, dtype=torch.float32, device=device).to(torch.float64)


def _simulate_chunk(X: np.ndarray, width: int, depth: int, eps: float, sigma_w: float, act: Activation,
                    b: int, method: str, gen: torch.Generator, device: torch.device, sigma_0: float
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """G, S of b networks: two tensors (b, depth+1, k, k) float64 on ``device``."""
    k, n0 = X.shape
    dt = torch.float64
    n = width
    if method == "exact":
        A0 = torch.as_tensor(psd_sqrt(input_kernel(X, sigma_0)), dtype=dt, device=device)
        h = _randn((b, n, k), gen, device) @ A0.T
    else:
        Xt = torch.as_tensor(X, dtype=dt, device=device)
        W0 = _randn((b, n, n0), gen, device) * (sigma_0 / math.sqrt(n0))
        h = W0 @ Xt.T
    Gs = torch.empty(b, depth + 1, k, k, dtype=dt, device=device)
    Ss = torch.empty(b, depth + 1, k, k, dtype=dt, device=device)
    step = math.sqrt(eps) * sigma_w
    for layer in range(depth + 1):
        p = act.phi(h)
        Gs[:, layer] = h.transpose(1, 2) @ h / n
        Ss[:, layer] = p.transpose(1, 2) @ p / n
        if layer == depth:
            break
        if method == "exact":
            A = _psd_sqrt_torch(Ss[:, layer])
            z = _randn((b, n, k), gen, device)
            h = h + step * (z @ A.transpose(1, 2))
        else:
            W = _randn((b, n, n), gen, device) * (1.0 / math.sqrt(n))
            h = h + step * (W @ p)
    return Gs, Ss


#: Bounds on what one call may ask for (sizes beyond them exhaust memory or time on any machine).
MAX_WIDTH = 1 << 16
MAX_DEPTH = 1 << 14
MAX_NETWORKS = 1 << 26


def _check_sim_args(X, width, depth, T, sigma_w, activation, n_networks, method, sigma_0, seed):
    X = check_inputs(X)
    width = check_int("width", width, 1, MAX_WIDTH)
    depth = check_int("depth", depth, 1, MAX_DEPTH)
    T = check_float("T", T, 0.0, 1e3, low_open=True)
    sigma_w = check_float("sigma_w", sigma_w, 0.0, 1e2, low_open=True)
    sigma_0 = check_float("sigma_0", sigma_0, 0.0, 1e2, low_open=True)
    act = get_activation(activation)
    n_networks = check_int("n_networks", n_networks, 1, MAX_NETWORKS)
    method = check_choice("method", method, ("exact", "naive"))
    seed = check_seed("seed", seed)
    return X, width, depth, T, sigma_w, act, n_networks, sigma_0, seed


def _device(device) -> torch.device:
    """The project's device choice (``rgnb.profiles.resolve_device``); ``None`` means ``"auto"``."""
    from rgnb.profiles import resolve_device
    return resolve_device("auto" if device is None else device)


def _chunk_size(width: int, k: int, method: str, max_elems: int) -> int:
    per_net = width * (width if method == "naive" else k)
    return max(1, max_elems // per_net)


def simulate_kernels(X, width: int, depth: int, T: float, sigma_w: float, activation: str, n_networks: int,
                     method: str = "exact", seed: int = 0, device=None, sigma_0: float = 1.0,
                     return_sigma: bool = False, max_elems: int = 1 << 22):
    """Empirical kernels of ``n_networks`` independent ResNets.

    Returns G of shape (n_networks, depth+1, k, k) float64 (numpy), G[:, l] = h^l h^l^T / n; with
    ``return_sigma`` also S (same shape), S[:, l] = phi(h^l) phi(h^l)^T / n.
    ``method="exact"`` draws h^{l+1} = h^l + sqrt(eps) sigma_w z (S^l)^{1/2} (z ~ N(0, I) per neuron),
    ``"naive"`` draws the weight matrices. Networks are batched; chunks bound memory to about
    ``max_elems`` random numbers per layer.
    """
    X, width, depth, T, sigma_w, act, n_networks, sigma_0, seed = _check_sim_args(
        X, width, depth, T, sigma_w, activation, n_networks, method, sigma_0, seed)
    k = X.shape[0]
    check_size("n_networks", n_networks * (depth + 1) * k * k * (2 if return_sigma else 1))
    device = _device(device)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    eps = T / depth
    b = _chunk_size(width, X.shape[0], method, max_elems)
    Gs, Ss = [], []
    for start in range(0, n_networks, b):
        G, S = _simulate_chunk(X, width, depth, eps, sigma_w, act, min(b, n_networks - start), method, gen,
                               device, sigma_0)
        Gs.append(G.cpu())
        Ss.append(S.cpu())
    G = torch.cat(Gs).numpy()
    if return_sigma:
        return G, torch.cat(Ss).numpy()
    return G


@dataclasses.dataclass(frozen=True)
class KernelMoments:
    """Monte Carlo moments of packed (G, S, C) per layer, from ``n_groups`` equal batches of networks.

    C^l = K_in + eps sigma_w^2 sum_{m<l} S^m (the accumulated conditional covariance; E[C] = E[G]).
    ``group_mean`` (m, L+1, 3p) and ``group_cov`` (m, L+1, 3p, 3p) hold per-batch means and
    covariances; the estimates average them and standard errors are their spread / sqrt(m).
    """

    width: int
    depth: int
    T: float
    n_networks: int
    k: int
    group_mean: np.ndarray
    group_cov: np.ndarray

    @property
    def t(self) -> np.ndarray:
        return np.linspace(0.0, self.T, self.depth + 1)

    @property
    def p(self) -> int:
        return n_packed(self.k)

    def _blk(self, name: str) -> slice:
        p = self.p
        return {"G": slice(0, p), "S": slice(p, 2 * p), "C": slice(2 * p, 3 * p)}[name]

    def mean(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard error of the packed kernel ``name`` in {G, S, C}, each (L+1, p)."""
        g = self.group_mean[..., self._blk(name)]
        return g.mean(0), g.std(0, ddof=1) / math.sqrt(g.shape[0])

    def ncov(self, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
        """n Cov(a, b) of packed kernels and its standard error, each (L+1, p, p)."""
        g = self.width * self.group_cov[..., self._blk(a), self._blk(b)]
        return g.mean(0), g.std(0, ddof=1) / math.sqrt(g.shape[0])


def kernel_moments(X, width: int, depth: int, T: float, sigma_w: float, activation: str, n_networks: int,
                   seed: int = 0, device=None, sigma_0: float = 1.0, n_groups: int = 20,
                   max_elems: int = 1 << 22, progress: bool = False) -> KernelMoments:
    """Run the exact sampler on ``n_networks`` networks and reduce to per-layer moments (streaming;
    memory is bounded by ``max_elems`` whatever ``n_networks``)."""
    X, width, depth, T, sigma_w, act, n_networks, sigma_0, seed = _check_sim_args(
        X, width, depth, T, sigma_w, activation, n_networks, "exact", sigma_0, seed)
    n_groups = check_int("n_groups", n_groups, 2, 10_000)
    p3 = 3 * n_packed(X.shape[0])
    check_size("depth", n_groups * (depth + 1) * p3 * (p3 + 1))
    if n_networks < 2 * n_groups:
        raise ValueError(f"n_networks must be >= 2 * n_groups = {2 * n_groups}, got {n_networks}")
    device = _device(device)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    eps = T / depth
    k = X.shape[0]
    p = n_packed(k)
    K_in = torch.as_tensor(pack(input_kernel(X, sigma_0)), dtype=torch.float64, device=device)
    iu = torch.as_tensor(np.triu_indices(k)[0], device=device), torch.as_tensor(np.triu_indices(k)[1], device=device)
    per_group = n_networks // n_groups
    b = min(per_group, _chunk_size(width, k, "exact", max_elems))
    gmean = np.zeros((n_groups, depth + 1, 3 * p))
    gcov = np.zeros((n_groups, depth + 1, 3 * p, 3 * p))
    groups = range(n_groups)
    if progress:
        from tqdm import tqdm
        groups = tqdm(groups, desc=f"n={width}", leave=False)
    for g in groups:
        s1 = torch.zeros(depth + 1, 3 * p, dtype=torch.float64, device=device)
        s2 = torch.zeros(depth + 1, 3 * p, 3 * p, dtype=torch.float64, device=device)
        shift = None
        done = 0
        while done < per_group:
            bb = min(b, per_group - done)
            G, S = _simulate_chunk(X, width, depth, eps, sigma_w, act, bb, "exact", gen, device, sigma_0)
            Gp, Sp = G[..., iu[0], iu[1]], S[..., iu[0], iu[1]]
            Cp = torch.cat([torch.zeros_like(Sp[:, :1]), torch.cumsum(Sp[:, :-1], dim=1)], dim=1) * (eps * sigma_w ** 2) + K_in
            Y = torch.cat([Gp, Sp, Cp], dim=-1)  # (bb, L+1, 3p)
            if shift is None:
                shift = Y.mean(0)
            Y = Y - shift
            s1 += Y.sum(0)
            s2 += torch.einsum("blp,blq->lpq", Y, Y)
            done += bb
        m = s1 / per_group
        cov = (s2 - per_group * m[..., :, None] * m[..., None, :]) / (per_group - 1)
        gmean[g] = (m + shift).cpu().numpy()
        gcov[g] = cov.cpu().numpy()
    return KernelMoments(width, depth, float(T), per_group * n_groups, k, gmean, gcov)




@dataclasses.dataclass(frozen=True)
class TwoSampleResult:
    width: int
    depth: int
    entry: str
    statistic: float
    pvalue: float


def two_sample_tests(X, width: int, depth: int, T: float, sigma_w: float, activation: str, n_networks: int,
                     seed: int = 0, device=None) -> tuple[list[TwoSampleResult], np.ndarray, np.ndarray]:
    """Kolmogorov-Smirnov two-sample tests of every packed entry of G^L, exact vs naive sampler
    (independent seeds). Returns the results and the two samples (n_networks, p)."""
    from scipy.stats import ks_2samp
    Ge = simulate_kernels(X, width, depth, T, sigma_w, activation, n_networks, "exact", seed, device)
    Gn = simulate_kernels(X, width, depth, T, sigma_w, activation, n_networks, "naive", seed + 1, device)
    a, b = pack(Ge[:, -1]), pack(Gn[:, -1])
    labels = pair_labels(X.shape[0])
    res = []
    for i, lab in enumerate(labels):
        r = ks_2samp(a[:, i], b[:, i])
        res.append(TwoSampleResult(width, depth, "G_" + lab, float(r.statistic), float(r.pvalue)))
    return res, a, b


def throughput(X, width: int, depth: int, method: str, n_networks: int, repeats: int = 3, activation: str = "relu",
               device=None, seed: int = 0) -> float:
    """Median networks x layers per second of a sampler (one warm-up run first)."""
    dev = _device(device)
    times = []
    for r in range(repeats + 1):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        simulate_kernels(X, width, depth, 1.0, 1.0, activation, n_networks, method, seed + r, dev)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if r > 0:
            times.append(time.perf_counter() - t0)
    return n_networks * depth / float(np.median(times))


def benchmark(widths=(256, 1024), depth: int = 8, repeats: int = 3, device=None, budget_naive: float = 0.3,
              budget_exact: float = 0.3) -> list[dict]:
    """Exact vs naive sampler at each width, measured in the same run: rows of
    {width, naive, exact (networks x layers / s), ratio}. Network counts are sized so each run takes
    about ``budget_*`` seconds on this machine."""
    X = default_inputs()
    rows = []
    for n in widths:
        # size the runs from a quick probe
        probe_n = max(1, int(2e6 // (n * n)))
        t0 = time.perf_counter()
        simulate_kernels(X, n, depth, 1.0, 1.0, "relu", probe_n, "naive", 0, device)
        per = (time.perf_counter() - t0) / probe_n
        nn = max(2, int(budget_naive / max(per, 1e-9)))
        naive = throughput(X, n, depth, "naive", nn, repeats, device=device)
        ne = max(512, int(budget_exact * naive * 100 / depth))
        exact = throughput(X, n, depth, "exact", ne, repeats, device=device)
        rows.append({"width": n, "depth": depth, "naive": naive, "exact": exact, "ratio": exact / naive,
                     "naive_networks": nn, "exact_networks": ne})
    return rows


def holm_min_p(results: list[TwoSampleResult]) -> float:
    """Holm-adjusted smallest p-value of a family of two-sample tests (for the smallest p, Holm's
    adjustment is m * p_min, capped at 1): the family rejects at level alpha iff this is <= alpha."""
    if not results:
        raise ValueError("results must hold at least one test")
    p_adj = min(1.0, min(r.pvalue for r in results) * len(results))
    return float(p_adj)


def benchmark_main(argv: list[str]) -> int:
    """``python -m rgnb bench eft``: exact vs naive sampler throughput and their ratio (``--json`` writes them)."""
    ap = argparse.ArgumentParser(prog="rgnb bench eft")
    ap.add_argument("--widths", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--json", default=None, help="write the rows to this JSON file")
    args = ap.parse_args(argv)
    from rgnb.profiles import resolve_device
    dev = resolve_device(args.device)
    print(f"kernel_eft sampler benchmark on {dev} (ReLU, k=3 inputs, depth {args.depth}, medians of "
          f"{args.repeats} repeats; networks x layers per second)")
    print(f"{'n':>6} {'naive':>14} {'exact':>14} {'ratio':>9}")
    rows = benchmark(tuple(args.widths), args.depth, args.repeats, dev)
    for r in rows:
        print(f"{r['width']:>6} {r['naive']:>14.4g} {r['exact']:>14.4g} {r['ratio']:>8.1f}x")
    if args.json:
        import json
        with open(args.json, "w") as fh:
            json.dump({"device": str(dev), "rows": rows}, fh, indent=1)
    return 0
