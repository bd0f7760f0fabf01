# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The kernel EFT validity window
#
# At initialization, the empirical kernel $G$ of a finite-width pre-activation ResNet is a random
# matrix that drifts and diffuses with depth. {cite}`kerneleft2026` write a continuous-depth
# effective field theory (EFT) for it in the spirit of {cite}`roberts2022pdlt`: a mean kernel $K_0$, a
# kernel covariance $V_4$ at order $1/n$, and a one-loop mean correction $K_1$, all closed on $G$
# alone ("G-only closure"). They report three numerical facts: $K_0$ is accurate at all depths; the
# $V_4$ equation's residual grows to order one at finite depth-time; $K_1$ fails because its source is
# wrong already at initialization. They suggest carrying the sigma-kernel as extra state. This chapter
# asks: **over which depth-times $t$ and widths $n$ does each piece of the EFT hold, and does a closure
# that carries the sigma-kernel widen that window?** Everything here runs at initialization; no
# training is involved.

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("kernel_eft", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np

from rgnb import claims, eft, plots

sz = eft.sizes(run.profile)
X = eft.default_inputs()
K_in = eft.input_kernel(X)
labels = eft.pair_labels(3)

# %% [markdown]
# ## Conventions
#
# We fix the model of the paper's setting and state which choices are ours.
#
# - $k = 3$ inputs $x_a \in \mathbb{R}^{n_0}$, $n_0 = 4$ (ours), with input kernel
#   $K_0(0)_{ab} = \sigma_0^2\, x_a\!\cdot x_b / n_0 = \begin{pmatrix}1 & 0.6 & 0\\ 0.6 & 1.2 & -0.4\\ 0 & -0.4 & 0.8\end{pmatrix}$
#   (ours: unequal norms, one pair at about $57^\circ$, one orthogonal pair, one obtuse pair).
# - Input layer $h^0 = W^0 x$, $W^0_{ij}\sim\mathcal N(0,\sigma_0^2/n_0)$, $\sigma_0 = 1$; width $n$.
# - Pre-activation residual blocks, $l = 0,\dots,L-1$, step $\epsilon = T/L$:
#   $h^{l+1} = h^l + \sqrt{\epsilon}\,\sigma_w W^{l+1}\phi(h^l)$, $W^{l+1}_{ij}\sim\mathcal N(0,1/n)$
#   fresh at each layer; $\sigma_w = 1$ (ours); $t = l\epsilon$ is the depth-time.
# - $\phi$ = ReLU and tanh (a registry in `rgnb.eft`; erf and the identity are there for tests).
# - Empirical kernel $G^l_{ab} = \frac1n\sum_i h^l_{ia}h^l_{ib}$, empirical sigma-kernel
#   $S^l_{ab} = \frac1n\sum_i \phi(h^l_{ia})\phi(h^l_{ib})$, Gaussian expectation
#   $F(K) = \mathbb E_{z\sim\mathcal N(0,K)}[\phi(z)\phi(z)^\top]$ (ReLU: the degree-1 arc-cosine
#   kernel {cite}`cho2009kernel`; tanh: a 2-D trapezoid rule, exponentially convergent, checked to
#   $10^{-11}$ against Gauss-Hermite with 250 nodes per axis).
# - $V_4 = \lim n\,\mathrm{Cov}(G)$ is the covariance of the *empirical* kernel, which includes the
#   Wishart part $K_{ac}K_{bd}+K_{ad}K_{bc}$; it is not the conditional-metric vertex of
#   {cite}`roberts2022pdlt`. Symmetric matrices are packed into their 6 upper-triangular entries;
#   $DF$ and $D^2F$ are derivatives in those coordinates (fourth-order finite differences in
#   float64, checked in the tests against the erf closed form and Price's theorem).
#
# ## The exact recursion and the exact sampler
#
# Given $h^l$, each row of $W^{l+1}\phi(h^l)$ is a sum of independent Gaussians, so the rows are i.i.d.
# $\mathcal N(0, S^l)$ vectors in $\mathbb R^k$. Hence, exactly in law,
# $h^{l+1}_i = h^l_i + \sqrt\epsilon\,\sigma_w A^l z_i$ with $A^l A^{l\top} = S^l$ and
# $z_i\sim\mathcal N(0,I_k)$. A layer costs $O(nk^2)$ instead of $O(n^2k)$, and a batch of networks is
# one tensor, so hundreds of thousands of networks are cheap. We check it against the naive simulation
# that draws every $W$: Kolmogorov-Smirnov two-sample tests on every entry of $G^L$ at several
# $(n, L)$ (independent seeds, level $\alpha = 0.01$ with a Bonferroni correction; tanh, $T = 1$).

# %% tags=["nbval-ignore-output"]
val_results, val_samples = [], []
for i, (n, L) in enumerate(sz.val_cases):
    res, a, b = eft.two_sample_tests(X, n, L, 1.0, 1.0, "tanh", sz.val_networks, seed=run.seed + 10 * i)
    val_results += res
    val_samples.append((n, L, a, b))
    for r in res:
        print(f"n={r.width:4d} L={r.depth:3d} {r.entry}: KS D = {r.statistic:.4f}, p = {r.pvalue:.3f}")
p_adj, verdict = eft.sampler_verdict(val_results)
print(f"smallest Bonferroni-adjusted p over {len(val_results)} tests: {p_adj:.3f} -> {verdict}")

# %% tags=["nbval-ignore-output"]
fig, axes = plots.subplots(4, len(val_samples), width=2.6, height=2.1)
for row, (n, L, a, b) in enumerate(val_samples):
    for col, e in enumerate([0, 1, 3, 4]):
        ax = axes[row, col]
        bins = np.histogram_bin_edges(np.concatenate([a[:, e], b[:, e]]), 40)
        ax.hist(b[:, e], bins, alpha=0.5, density=True, label="naive (draws W)")
        ax.hist(a[:, e], bins, histtype="step", density=True, color="k", label="exact sampler")
        ax.set_title(f"$G^L_{{{labels[e]}}}$, n={n}, L={L}")
axes[0, 0].legend()
plt.show()

# %% [markdown]
# Speed, measured in the same run (medians over repeats; networks $\times$ layers per second; ReLU,
# $k = 3$). The target is a ratio of at least 50 at $n = 1024$.

# %% tags=["nbval-ignore-output"]
bench = eft.benchmark(sz.bench_widths, depth=8, repeats=sz.bench_repeats, device=run.device)
for r in bench:
    print(f"n={r['width']:5d}: naive {r['naive']:10.4g}, exact {r['exact']:10.4g} networks x layers / s, "
          f"ratio {r['ratio']:.0f}x")

# %% [markdown]
# ## The G-only closure, derived
#
# Write the increment given $h^l$ as $\Delta G = \sqrt\epsilon\,\sigma_w X + \epsilon\sigma_w^2 Y$
# with $X_{ab} = \frac1n\sum_i (h_{ia}u_{ib} + u_{ia}h_{ib})$, $Y = \frac1n\sum_i u_iu_i^\top$,
# $u_i = A z_i\sim\mathcal N(0,S)$. Then $\mathbb E[\Delta G\mid h] = \epsilon\sigma_w^2 S$ and
# $n\,\mathrm{Cov}(X_{ab},X_{cd}\mid h) = G_{ac}S_{bd}+G_{ad}S_{bc}+G_{bc}S_{ad}+G_{bd}S_{ac}$,
# exactly; $Y$ adds only $O(\epsilon^2)$ to the covariance. This recursion is exact but not closed:
# $S$ is not a function of $G$. The G-only closure replaces $S$ by $F(G)$ and expands around the mean,
# $G = K_0 + \delta$, $F(G) \approx F(K_0) + DF[\delta] + \tfrac12 D^2F[\delta,\delta]$, with
# $\mathbb E G = K_0 + K_1/n$ and $n\,\mathrm{Cov}(G) = V_4$. Taking $\epsilon\to0$:
#
# - order $n^0$ of the mean: $\dot K_0 = \sigma_w^2F(K_0)$;
# - the covariance: $\mathrm{Cov}(G+\Delta G) = \mathrm{Cov}(G) + \epsilon\sigma_w^2[\mathrm{Cov}(G,S)
#   + \mathrm{Cov}(S,G)] + \epsilon\sigma_w^2\,\mathbb E\,\mathrm{Cov}(X\mid h)$, and the closure sets
#   $\mathrm{Cov}(S,G)\approx DF\,\mathrm{Cov}(G)$ (the *transport* term), so
#   $\dot V_4 = \sigma_w^2(DF\,V_4 + V_4\,DF^\top) + \sigma_w^2 Q(K_0,F(K_0))$ with
#   $Q_{ab,cd} = K_{ac}F_{bd}+K_{ad}F_{bc}+K_{bc}F_{ad}+K_{bd}F_{ac}$;
# - order $1/n$ of the mean (the tadpole): $\dot K_1 = \sigma_w^2(DF[K_1] + \tfrac12D^2F[V_4])$.
#
# At $t = 0$ the neurons $h^0_i$ are exactly i.i.d. $\mathcal N(0, K_0(0))$, so $G^0$ is Wishart:
# $V_4(0)_{ab,cd} = K_{ac}K_{bd}+K_{ad}K_{bc}$ and $K_1(0)=0$. We integrate the 48 packed unknowns
# with `solve_ivp` (DOP853, rtol $10^{-8}$).
#
# **Monte Carlo estimators (ours).** Means use $C^l = K_0(0) + \epsilon\sigma_w^2\sum_{m<l}S^m$, which
# has exactly the same expectation as $G^l$ (the noise $X$ has mean zero) but far less variance. The
# measured one-loop correction is $K_1^{\rm MC} = n(\mathbb E[C^l] - K_0^{\epsilon,l})$, where
# $K_0^{\epsilon,l+1} = K_0^{\epsilon,l} + \epsilon\sigma_w^2F(K_0^{\epsilon,l})$ is the *exact*
# infinite-width limit of the simulated $L$-layer network: subtracting the ODE instead would add
# $n\cdot O(\epsilon)$, which swamps any $1/n$ effect. Standard errors come from the spread over
# 20 independent batches of networks.

# %% tags=["nbval-ignore-output"]
studies = {name: eft.run_study(name, sz, seed=run.seed, device=run.device) for name in ("relu", "tanh")}
print(f"depth L = {sz.depth}, T = {sz.T}, widths {sz.widths}, {sz.n_networks} networks per width")

# %% [markdown]
# ## 1. $K_0$ at all depths
#
# At a larger width and a finer depth step than the main study (`k0_width`, `k0_refine` in the
# sizes table), we compare the
# Monte Carlo mean of $G$ to $K_0$. The error splits into a width part (Monte Carlo against the
# infinite-width limit of the same network; this is what the EFT's $K_0$ claims) and a depth part
# (that limit against the ODE; deterministic, $O(\epsilon)$).

# %% tags=["nbval-ignore-output"]
fig, axes = plots.subplots(2, 1, width=4.2, height=3.0)
for ax, (name, st) in zip(axes[0], studies.items()):
    e = eft.k0_errors(st)
    plots.band(ax, e["t"], e["width"], e["width"] - 2 * e["width_se"], e["width"] + 2 * e["width_se"],
               label=f"width part: MC vs $K_0^\\epsilon$ (n={st.k0_mom.width}, $\\pm$2 s.e.)")
    ax.plot(e["t"], e["depth"], "--", label=f"depth part: $K_0^\\epsilon$ vs ODE ($\\epsilon$={sz.T / (sz.k0_refine * sz.depth):g})")
    ax.plot(e["t"], e["total"], ":", label="total: MC vs ODE")
    ax.set(title=f"{name}: relative error of $K_0$", xlabel="t", yscale="log", ylim=(1e-5, 0.1))
    ax.legend()
    print(f"{name}: max width part {e['width'].max():.2%}, max depth part {e['depth'].max():.2%}")
plt.show()

# %% [markdown]
# ## 2. $V_4$: the covariance of the kernel
#
# $n\,\mathrm{Cov}(G)$ at every width (dots, $\pm2$ s.e.) against the G-only $V_4(t)$ (line), and the
# relative residual $\lVert n\mathrm{Cov}(G) - V_4\rVert_F/\lVert V_4\rVert_F$ as a function of $t$.

# %% tags=["nbval-ignore-output"]
fig, axes = plots.subplots(3, 2, width=3.4, height=2.8)
for row, (name, st) in enumerate(studies.items()):
    for col, e in enumerate([0, 1]):
        ax = axes[row, col]
        ax.plot(st.t, st.gonly.V4[:, e, e], "k", label="G-only $V_4$")
        for m in st.moms:
            V, se = m.ncov("G", "G")
            ax.errorbar(st.t[::2], V[::2, e, e], 2 * se[::2, e, e], fmt=".", ms=3, label=f"n={m.width}")
        ax.set(title=f"{name}: $V_{{{labels[e]},{labels[e]}}}$", xlabel="t")
    ax = axes[row, 2]
    r, se = eft.residual_map(st, "gonly", "V4")
    for w, rr, ss in zip(st.widths, r, se):
        plots.band(ax, st.t, rr, rr - 2 * ss, rr + 2 * ss, label=f"n={w}")
    ax.axhline(eft.TAU, color="grey", lw=0.8)
    ax.set(title=f"{name}: relative residual of $V_4$", xlabel="t", yscale="log", ylim=(3e-3, 5))
axes[0, 0].legend()
axes[0, 2].legend()
plt.show()
for name, st in studies.items():
    r, _ = eft.residual_map(st, "gonly", "V4")
    hit = [float(st.t[np.argmax(row >= 0.5)]) if (row >= 0.5).any() else None for row in r]
    print(f"{name}: V4 residual at t = T per width {np.round(r[:, -1], 3)}; first t with residual >= 0.5: {hit}")

# %% [markdown]
# ## 3. $K_1$: the one-loop mean correction, and the mismatch at initialization
#
# At $t=0$ the neurons are exactly Gaussian given $x$, so $\mathbb E[S^0] = F(K_0(0))$ exactly and the
# measured $K_1$ starts flat: its slope, $\sigma_w^2 n(\mathbb E S - F(K_0))$, is zero at $t = 0$ and
# grows only as the sigma-kernel picks up fluctuations. The G-only closure instead evaluates the
# source as $F(K_0) + D^2F[V_4]/2n$ with $V_4(0)$ equal to the Wishart covariance, which is not zero:
# it attributes to $S$ the sampling noise of $G^0$, which $S^0$ never sees (both are sample means over
# the *same* Gaussian neurons; $S^0$'s mean does not depend on how well $G^0$ estimates $K_0(0)$).

# %% tags=["nbval-ignore-output"]
fig, axes = plots.subplots(3, 2, width=3.4, height=2.8)
for row, (name, st) in enumerate(studies.items()):
    for col, e in enumerate([1, 3]):
        ax = axes[row, col]
        ax.plot(st.t, eft.pack(st.gonly.K1)[:, e], "k", label="G-only $K_1$")
        ax.plot(st.t, eft.pack(st.sigma.K1)[:, e], "k--", label="sigma-closure $K_1$")
        for m in st.moms:
            k1, se = eft.measured_k1(m, st.K0_disc)
            ax.errorbar(st.t, k1[:, e], 2 * se[:, e], fmt=".", ms=3, label=f"n={m.width}")
        ax.set(title=f"{name}: $K_{{1,{labels[e]}}}$", xlabel="t")
    ax = axes[row, 2]
    r, se = eft.residual_map(st, "gonly", "K1")
    for w, rr, ss in zip(st.widths, r, se):
        plots.band(ax, st.t, rr, np.maximum(rr - 2 * ss, 1e-3), rr + 2 * ss, label=f"n={w}")
    ax.axhline(eft.TAU, color="grey", lw=0.8)
    ax.set(title=f"{name}: relative residual of G-only $K_1$", xlabel="t", yscale="log", ylim=(1e-2, 50))
axes[0, 0].legend(fontsize=6)
plt.show()
for name, st in studies.items():
    r, se = eft.k1_init_residual(st, "gonly")
    print(f"{name}: G-only K1 residual over 0 < t <= T/10 at n = {st.widths[-1]}: {r:.2f} +- {se:.2f}")

# %% [markdown]
# ## 4. The validity window
#
# For a tolerance $\tau = 10\%$, $t^*(n,\tau)$ is the largest $t$ such that the relative residual stays
# below $\tau$ on all of $[0, t]$. The heat maps show the residual over $(t, n)$ for the G-only
# closure (contour at $\tau$); the right panel shows $t^*$ against $n$ for each quantity. Where the
# residual is below the Monte Carlo noise floor it is shown as measured (the floor is visible in the
# bands above).

# %% tags=["nbval-ignore-output"]
fig, axes = plots.subplots(3, 2, width=3.4, height=2.8)
for row, (name, st) in enumerate(studies.items()):
    for col, q in enumerate(["V4", "K1"]):
        ax = axes[row, col]
        r, _ = eft.residual_map(st, "gonly", q)
        im = ax.pcolormesh(st.t, np.arange(len(st.widths)), np.log10(np.clip(r, 1e-3, 1e2)), vmin=-2, vmax=1,
                           cmap="viridis", shading="nearest")
        ax.contour(st.t, np.arange(len(st.widths)), np.nan_to_num(r, nan=0.0), [eft.TAU], colors="w")
        ax.set(yticks=range(len(st.widths)), yticklabels=st.widths, xlabel="t", ylabel="n",
               title=f"{name}: log10 residual of G-only {q}")
    fig.colorbar(im, ax=axes[row, 1])
    ax = axes[row, 2]
    for cl, ls in (("gonly", "-"), ("sigma", "--")):
        w = eft.windows(st, cl)
        for q, c in (("K0", "C0"), ("V4", "C1"), ("K1", "C2")):
            ax.plot(st.widths, w[q] + (0.02 if cl == "sigma" else 0), ls, marker="o", color=c, label=f"{q} ({cl})")
    ax.set(xscale="log", xlabel="n", ylabel=f"t*(n, tau={eft.TAU:g})", title=f"{name}: validity window",
           ylim=(-0.1, sz.T + 0.1))
axes[0, 2].legend(fontsize=6)
plt.show()
for name, st in studies.items():
    for cl in ("gonly", "sigma"):
        w = eft.windows(st, cl)
        print(name, cl, {q: dict(zip(st.widths.tolist(), np.round(v, 3).tolist())) for q, v in w.items()})

# %% [markdown]
# ## 5. Beyond the paper: a closure that carries the sigma-kernel
#
# **What the G-only closure drops.** Let $C(t) = K_0(0) + \sigma_w^2\int_0^t S\,dt'$, the accumulated
# conditional covariance: if the path of $S$ were given, every neuron would be exactly
# $\mathcal N(0, C)$, and $\mathbb E C = \mathbb E G$. Write the fluctuations at leading order in $1/n$
# around the infinite-width network, in which each neuron's path $h(t)$ is a Gaussian process with
# independent increments and $\mathrm{Cov}\,h(t) = K_0(t)$. The sigma-kernel fluctuates because its
# neurons are a finite sample, $\xi = \frac1n\sum_i[\phi\phi^\top(h_i) - F(K_0)]$, and because its law
# moves with $C$: $\delta S = \xi + DF[\delta C]$, $\delta\dot C = \sigma_w^2\,\delta S$, and
# $\delta G = R + \delta C$ with $R = \frac1n\sum_i[h_ih_i^\top - K_0]$ (the cross term
# $\frac1n\sum_i h_i u_i^\top$ averages to $\sigma_w^2\int\delta S$, which is already $\delta C$).
# The G-only closure sets $\xi \approx DF[R]$: it assumes the sigma-kernel's sampling noise is a
# function of $G$'s. It is not: $\xi(s)$ and $\xi(t)$ are the same neurons seen at two depths, and that
# memory is what the transport term misses.
#
# **The closure (ours).** Every fluctuation above is a sum over neurons of a functional of that
# neuron's own path. Carry, per neuron, its accumulated sigma-kernel fluctuation
# $c$ with $\dot c = \sigma_w^2[\phi(h)\phi(h)^\top - F(K_0) + DF(K_0)[c]]$, $c(0) = 0$. Then
#
# $$V_4^{\sigma}(t) = \mathrm{Cov}\big(hh^\top - K_0 + c\big),\qquad V_C(t) = \mathrm{Cov}(c) = \lim n\,\mathrm{Cov}(C),$$
#
# $$\dot K_1^{\sigma} = \sigma_w^2\big(DF(K_0)[K_1^\sigma] + \tfrac12 D^2F(K_0)[V_C]\big),\quad K_1^\sigma(0) = 0,$$
#
# the last because, given $C$, the neurons are $\mathcal N(0,C)$ and $\mathbb E S\approx\mathbb E F(C)$:
# the tadpole is sourced by the fluctuation of the *conditional* covariance, which vanishes at
# $t=0$, not by that of $G$. The one-neuron expectations are evaluated by sampling independent
# infinite-width neuron paths (`closure_paths` of them, fixed seed; exact Gaussian increments for
# $h$, Heun steps for $c$). What it still neglects: the feedback of a neuron on itself through its own
# $1/n$ share of $S$, an $O(1/n)$ term in $\mathbb E S$ of the same order as $K_1/n$.

# %% tags=["nbval-ignore-output"]
fig, axes = plots.subplots(3, 2, width=3.4, height=2.8)
for row, (name, st) in enumerate(studies.items()):
    for col, q in enumerate(["V4", "K1"]):
        ax = axes[row, col]
        for cl, ls in (("gonly", "-"), ("sigma", "--")):
            r, _ = eft.residual_map(st, cl, q)
            for j, (w, rr) in enumerate(zip(st.widths, r)):
                ax.plot(st.t, rr, ls, color=f"C{j}", label=f"n={w} ({cl})" if q == "V4" else None)
        ax.axhline(eft.TAU, color="grey", lw=0.8)
        ax.set(title=f"{name}: residual of {q}, G-only (—) vs sigma (- -)", xlabel="t", yscale="log",
               ylim=(3e-3, 50))
    ax = axes[row, 2]
    m = st.moms[-1]
    VGS, se = m.ncov("G", "S")
    transport = np.einsum("tij,tjk->tki", np.stack([eft.DF(K, name) for K in st.gonly.K0]), st.gonly.V4)
    for j, e in enumerate([0, 1]):
        ax.errorbar(st.t[::2], VGS[::2, e, e], 2 * se[::2, e, e], fmt=".", color=f"C{j}",
                    label=f"MC n={m.width}, ({labels[e]},{labels[e]})")
        ax.plot(st.t, transport[:, e, e], "-", color=f"C{j}", label="G-only: $(DF\\,V_4)$")
        ax.plot(st.t, st.sigma.extra["VGS"][:, e, e], "--", color=f"C{j}", label="sigma closure")
    ax.set(title=f"{name}: n Cov(G, S)", xlabel="t")
axes[0, 0].legend(fontsize=6)
axes[0, 2].legend(fontsize=6)
plt.show()

# %% [markdown]
# **Reading the figures.** The sigma-kernel closure's $V_4$ follows Monte Carlo where the G-only
# $V_4$ departs from it (ReLU, whose kernel grows exponentially, shows the effect most), and
# $n\,\mathrm{Cov}(G,S)$ confirms the diagnosis: the G-only transport term underestimates the measured
# cross-covariance, the per-neuron closure reproduces it. For $K_1$ the closure fixes the *initial*
# slope (its source starts at zero, like the measurement) but not the magnitude: the remaining
# one-loop source, a neuron's feedback on itself, is of the same order and is not in either closure.
# The verdicts below are computed with the window's pre-stated tolerance.
#
# ## Verdicts
#
# Thresholds are fixed in `rgnb.eft` before any run: $K_0$ "accurate" means a relative error below
# 2 % at every depth (width part, whole 95 % bootstrap interval over batches); $V_4$ "grows to
# $O(1)$" means a maximal residual above 0.3; "$K_1$ fails at initialization" means a mean residual
# above 0.5 over $0 < t \le T/10$; "widens the window" means a positive gain in $t^*$ at the largest
# width. The speed ratio is printed above and kept out of this table (timings vary between runs).

# %%
rows = eft.chapter_claims(studies, val_results, seed=run.seed)
claims.record_claims("kernel_eft", rows)
