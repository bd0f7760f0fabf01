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
# # The exponential-family RG theorem: what can be proved, and what trained hierarchies do
#
# {cite}`gong2026expfam` state that for continuous input data from a class of exponential-family
# distributions, *when a fully connected deep network reaches its optimal parameters, the
# characteristic parameters of its feature-layer output equal the fixed point of the input data's
# characteristic parameters under a real-space renormalization group (RG)*. It generalises their 1D
# Ising result {cite}`gong2022ising`: the limit of the coupling constant of the network output equals
# the stable fixed point of the decimation RG. Only the two abstracts are public to us. This is the
# book's "proof" chapter: we state the theorem in a precise form of our own, prove what can be proved
# here (the exact RG maps and their fixed points, the linear-Gaussian optima, the exact RSMI optimum
# of a two-spin block), and test the rest on trained networks whose layers have spatial order.

# %% tags=["parameters"]
profile = "auto"
device = "auto"
seed = 0

# %% tags=["remove-input", "nbval-ignore-output"]
import rgnb
run = rgnb.start_chapter("expfam_rg", profile=profile, device=device, seed=seed)
run

# %% tags=["remove-cell"]
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from rgnb import claims, plots, rg

torch.set_num_threads(1)
sz = rg.sizes(run.profile)

# %% [markdown]
# ## The statement we test
#
# **The authors' claim** (abstract of {cite}`gong2026expfam`, paraphrased): input data from an
# exponential family; a fully connected network at its optimal parameters; the "characteristic
# parameters" of its feature-layer output equal the RG fixed point of the input's characteristic
# parameters. Everything below the quote is **our reading**, and every number refers to it.
#
# A fully connected feature layer has no spatial order, so a "coupling between neighbouring feature
# units" pairs units by index, and a relabelling of the units changes it ({prf:ref}`thm-fc-dae-gauge`).
# We therefore test the theorem on networks whose layers *do* have a lattice: stacks of local
# coarse-graining layers, each mapping $b=2$ neighbouring units to one.
#
# :::{prf:definition} Local coarse-graining hierarchy
# :label: def-hierarchy
#
# Layer $0$ is a window $x\in\mathbb R^N$ of a stationary chain. Layer $l=1,\dots,L$ has $N/2^l$ units,
# $z^{(l)}_j=\sigma\big(w^{(l)}_j\cdot(z^{(l-1)}_{2j},z^{(l-1)}_{2j+1})+b^{(l)}_j\big)$, so its lattice
# spacing is $2^l$ input sites. Weights are *shared* ($w^{(l)}_j=w^{(l)}$) or *unshared*. Each layer
# is trained on a local objective of its own input: *denoise* (reconstruct the clean pair from the unit
# computed on the noisy pair) or *RSMI* (maximise a mutual-information bound between $z^{(l)}_j$ and
# the units of layer $l-1$ beyond a buffer, {cite}`koch2018rsmi`).
# :::
#
# :::{prf:definition} Gauge-invariant characteristic parameter
# :label: def-gauge-parameter
#
# A statistic $\theta(z^{(l)})$ of a layer is a *characteristic parameter* when it is unchanged by every
# lattice symmetry of the layer (reflection, translation) and by every strictly monotone map
# $z_j\mapsto g_j(z_j)$ of each unit (what a later layer cannot distinguish). We use
# $\theta_l=\operatorname{mean}_j|\rho_S(z^{(l)}_j,z^{(l)}_{j+1})|$, the lag-1 Spearman (mid-rank)
# correlation; the correlation length $\xi_l=-1/\ln\rho$ in units of the layer's spacing and the
# Gaussian-copula mutual information of neighbours are functions of it. For i.i.d. data we use the
# mean absolute standardised skewness of a unit (invariant under affine maps only: any continuous law
# is a monotone image of a Gaussian, so no statistic of one unit is invariant under all monotone maps).
# :::
#
# :::{prf:definition} The two readings
# :label: def-readings
#
# Let $R$ be the exact $b=2$ RG map of the input family (decimation for chains, block sums for i.i.d.
# data), written in the parameter $\theta$, and $\theta^\star$ its stable fixed point.
# **T$_k$**: layer $l$ implements $R^l$, i.e. $|\theta_l-R^l(\theta_0)|<\delta$ for all $l\le L$.
# **T**: the last layer sits at the fixed point, $|\theta_L-\theta^\star|<\delta$.
# Both are measured per (input law, objective, architecture) over $\ge 10$ seeds, each with its own data,
# with the margin $\delta$ registered in `rgnb.rg.registry` (its reason is stored with every row).
# :::

# %% [markdown]
# ## Part A: the exact RG maps and their fixed points
#
# :::{prf:theorem} Ising decimation
# :label: thm-ising-decimation
#
# For the chain $\exp(K\sum s_is_{i+1}+h\sum s_i)$, summing out every other spin gives a chain of the
# same family with $K'=\tfrac14\ln\frac{\cosh(2K+h)\cosh(2K-h)}{\cosh^2h}$ and
# $h'=h+\tfrac12\ln\frac{\cosh(2K+h)}{\cosh(2K-h)}$; at $h=0$, $\tanh K'=\tanh^2K$, with fixed points
# $K^\star=0$ (stable) and $K^\star=\infty$; $\xi=-1/\ln\tanh K$ halves per step.
# :::
#
# :::{prf:proof}
# The sum over the middle spin $s$ of $e^{Kas+Ksc+hs}$ is $2\cosh(K(a+c)+h)$, a positive function of
# $(a,c)\in\{\pm1\}^2$, hence of the form $A\,e^{K'ac+\frac{h'-h}{2}(a+c)}$; matching the four values
# gives the formulas. At $h=0$, $e^{2K'}=\cosh 2K$, i.e. $\tanh K'=\tanh^2K$. As $0\le\tanh^2K<\tanh K$
# for $0<K<\infty$, the orbit decreases to $0$; $\xi'=-1/\ln\tanh^2K=\xi/2$. $\square$
# :::
#
# :::{prf:theorem} Gaussian-chain decimation
# :label: thm-gauss-decimation
#
# For $\exp(-\tfrac r2\sum x_i^2+K\sum x_ix_{i+1}+h\sum x_i)$, $r>2|K|$, integrating out the odd sites
# gives $K'=K^2/r$, $r'=r-2K^2/r$, $h'=h(1+2K/r)$. With $u=2K/r$: $u'=u^2/(2-u^2)$, with fixed points
# $u^\star=0$ (stable) and $u^\star=1$ (critical) where $du'/du=4=2^{y_t}$. In AR(1) form the lag-1
# correlation maps as $\phi'=\phi^2$.
# :::
#
# :::{prf:proof}
# An odd site $x$ enters as $-\tfrac r2x^2+x(Ka+Kc+h)$; the Gaussian integral gives
# $\exp\{(K(a+c)+h)^2/(2r)\}$, which adds $K^2/r$ to the coupling $ac$, $K^2/r$ to each of $a^2,c^2$
# (each even site has two odd neighbours: $r'=r-2K^2/r$) and $hK/r$ to each linear term. Then
# $u'=2K'/r'=u^2/(2-u^2)$; $u'=u$ iff $u\in\{0,1\}$ (or $-1$), and $du'/du=4u/(2-u^2)^2$ equals $4$ at
# $u=1$. Decimating a Markov chain keeps every second state, so its lag-1 correlation is
# $\phi^2$. $\square$
# :::
#
# :::{prf:theorem} Block sums of i.i.d. variables
# :label: thm-block-sum
#
# For i.i.d. $X_i$ with cumulants $\kappa_m$, $(X_1+X_2)/\sqrt2$ has cumulants $2^{1-m/2}\kappa_m$, so the
# standardised cumulants $\kappa_m/\kappa_2^{m/2}$ scale as $2^{1-m/2}$ per step: the flow ends at the
# Gaussian. Gamma$(k,s)\to$ Gamma$(2k,s/\sqrt2)$ and $a\,$Poisson$(\lambda)\to(a/\sqrt2)\,$Poisson$(2\lambda)$.
# :::
#
# :::{prf:proof}
# Cumulants add over independent summands and scale as $c^m$ under $X\mapsto cX$. $\square$
# :::
#
# **Checks.** Exact stationary samplers (the Ising chain as its transfer-matrix Markov chain, the
# Gaussian chain as AR(1)) produce independent chains; we decimate the samples, re-estimate the
# parameters at every step with delete-one-chain jackknife standard errors, and compare with the maps
# (rows `A-map-*`, `A-critical-eigenvalue` below; the test is $|\text{MC}-\text{map}|/\text{SE}<4$ at every
# step). For chains this check is close to an identity (the decimated samples *are* samples of $P^2$);
# it tests the samplers and estimators that the network study relies on.

# %% tags=["nbval-ignore-output"]
checks = {"ising": rg.check_ising_decimation(0.9, 0.2, sz, seed=run.stream_seed("ising-check") % 2**31),
          "gauss": rg.check_gaussian_decimation(1.0, 0.45, 0.2, sz, seed=run.stream_seed("gauss-check") % 2**31)}
for fam, par in {"gamma": (0.5, 1.0), "poisson": (0.5, 1.0), "normal": (0.3, 2.0)}.items():
    checks[fam] = rg.check_block_sum(fam, par, sz, seed=run.stream_seed(f"{fam}-check") % 2**31)
{k: round(c.max_z(), 2) for k, c in checks.items()}

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rg-maps", "caption": "Exact maps (lines) against decimated exact samples (points, 2 jackknife SE). Left: Ising chain, $K=0.9$, $h=0.2$. Middle: Gaussian chain, $r=1$, $K=0.45$, $h=0.2$. Right: the $u$ map, its fixed points $0$ (stable) and $1$ (critical, slope 4)."}}
fig, ax = plots.subplots(3, 1, width=3.6, height=3.0)
c = checks["ising"]
for name, col in (("K", "C0"), ("h", "C1")):
    ax[0, 0].plot(c.steps, c.predicted[name], color=col, label=f"map: {name}")
    ax[0, 0].errorbar(c.steps, c.estimate[name], 2 * c.se[name], fmt="o", color=col, ms=4, label=f"MC: {name}")
ax[0, 0].set(title="Ising chain", xlabel="RG step", ylabel="parameter")
ax[0, 0].legend()
c = checks["gauss"]
for name, col in (("u", "C0"), ("K", "C2"), ("h", "C1")):
    ax[0, 1].plot(c.steps, c.predicted[name], color=col, label=f"map: {name}")
    ax[0, 1].errorbar(c.steps, c.estimate[name], 2 * c.se[name], fmt="o", color=col, ms=4)
ax[0, 1].set(title="Gaussian chain", xlabel="RG step")
ax[0, 1].legend()
uu = np.linspace(0, 1, 200)
ax[0, 2].plot(uu, rg.u_map(uu), label="u' = u²/(2-u²)")
ax[0, 2].plot(uu, uu, "k:", lw=1)
traj = rg.u_flow(0.99, 6)
ax[0, 2].step(np.repeat(traj, 2)[1:-1], np.repeat(traj, 2)[2:], where="post", color="C3", lw=1, label="flow from u=0.99")
ax[0, 2].plot([0, 1], [0, 1], "ko", ms=5)
ax[0, 2].plot(uu[150:], 1 + 4 * (uu[150:] - 1), "C2--", lw=1, label="slope 4 at u*=1")
ax[0, 2].set(title="u map", xlabel="u", ylabel="u'", ylim=(0, 1))
ax[0, 2].legend()
plt.show()

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rg-blocksum", "caption": "Block-sum RG of i.i.d. Gamma(0.5, 1), Poisson(0.5) and Gaussian draws: standardised skewness and excess kurtosis (points, 2 jackknife SE; lines exact) decay as $b^{1-m/2}$ to the Gaussian fixed point."}}
fig, ax = plots.subplots(2, 1, width=4.2, height=3.0)
for fam, col in (("gamma", "C0"), ("poisson", "C1"), ("normal", "C2")):
    c = checks[fam]
    for j, name in enumerate(("skew", "exkurt")):
        ax[0, j].plot(c.steps, c.predicted[name], color=col, label=f"map: {fam}")
        ax[0, j].errorbar(c.steps, c.estimate[name], 2 * c.se[name], fmt="o", color=col, ms=4)
ax[0, 0].set(title="standardised skewness (∝ b^-1/2)", xlabel="block-sum step")
ax[0, 1].set(title="excess kurtosis (∝ b^-1)", xlabel="block-sum step")
ax[0, 0].legend()
plt.show()

# %% [markdown]
# ## Part B: what the optima are, where they can be computed
#
# :::{prf:theorem} The fully connected linear DAE does not determine its feature parameters
# :label: thm-fc-dae-gauge
#
# Let $x$ have covariance $C$ with eigenpairs $(\lambda_i,U_i)$, $\lambda_1\ge\lambda_2\ge\dots$, and
# minimise $\mathbb E\|x-DW(x+\sigma\varepsilon)\|^2$ over $W\in\mathbb R^{M\times N}$, $D\in\mathbb R^{N\times M}$.
# The minimisers include every $W=AU_M^\top$, $D=U_M\operatorname{diag}(\tfrac{\lambda_i}{\lambda_i+\sigma^2})A^{-1}$
# with $A$ invertible, whose features have covariance $A\Lambda_MA^\top$ — any positive-definite
# matrix. Hence any lag-1 feature correlation in $(-1,1)$ is attained at the optimal loss, and a
# relabelling of the units (a permutation $A$) changes it.
# :::
#
# :::{prf:proof}
# The loss depends on $(W,D)$ only through $B=DW$ of rank $\le M$; it is a reduced-rank regression of
# $x$ on $x+\sigma\varepsilon$, and as $C$ and $C+\sigma^2I$ commute its minimiser is
# $B^\star=U_M\operatorname{diag}(\lambda_i/(\lambda_i+\sigma^2))U_M^\top$. Every factorisation above gives
# $DW=B^\star$. Choosing $A=S^{1/2}\Lambda_M^{-1/2}$ gives feature covariance $S$ for any $S\succ0$. $\square$
# :::
#
# This is why the fully connected DAE is kept here only as an explained ill-posed case, not as a verdict
# row (the number below is exact, from the closed form):

# %%
scan = rg.fc_dae_gauge_scan(0.7, 32, 8, 0.5, np.linspace(-0.9, 0.9, 19))
print(f"optimal gauges: fitted u from {scan['u'].min():.2f} to {scan['u'].max():.2f}, "
      f"max relative excess loss {np.abs(scan['excess']).max():.1e} (all optimal); PCA gauge u = {scan['u_pca']:.1e}; "
      f"gauge rho = 0.5: u = {scan['u_gauge05']:.3f}, same units relabelled: u = {scan['u_gauge05_permuted']:.3f}")

# %% [markdown]
# :::{prf:theorem} The local linear DAE computes block sums
# :label: thm-local-dae
#
# Let a layer unit see a pair $(y_1,y_2)$ of equal variance and correlation $\rho>0$, with noise of the
# same relative size on both. The optimal one-unit linear DAE encodes $y_1+y_2$ (up to scale). Applied
# layer by layer to a stationary Gaussian chain with lag-1 correlation $\phi>0$, layer $l$ holds sums of
# $2^l$ consecutive sites, with lag-1 correlation $S(2^l)/V(2^l)$, where
# $V(n)=\sum_{|i-j|<n}(n-|i-j|)\phi^{|i-j|}$ and $S(n)=\sum_{d=1}^{2n-1}\min(d,2n-d)\,\phi^d$; at $l=1$ it is
# $\phi(1+\phi)/2$, not the decimation value $\phi^2$.
# :::
#
# :::{prf:proof}
# By {prf:ref}`thm-fc-dae-gauge` with $N=2$, $M=1$ the optimal encoder is the top eigenvector of
# $\begin{pmatrix}1&\rho\\\rho&1\end{pmatrix}$, which is $(1,1)/\sqrt2$ for $\rho>0$ (a one-unit code has no
# gauge freedom beyond scale). Block sums of a stationary chain are stationary with positive lag-1
# correlation, so the argument repeats at every layer; the correlation of neighbouring sums of $n$
# sites is the ratio of the stated sums of covariances. $\square$
# :::
#
# So the denoising reading of T$_k$ on the Gaussian chain is false *at the optimum* whenever the block
# sum and decimation differ by more than $\delta$ in $\theta$ (row `ours-local-optimum` tests
# that the trained layers reach the block-sum optimum).
#
# :::{prf:theorem} Exact RSMI optimum of a two-spin block (by enumeration)
# :label: thm-rsmi-ising
#
# For the $h=0$ Ising chain, let $H=f(s_1,s_2)\in\{\pm1\}$ be a binary coarse variable of a two-spin
# block and $E$ the $2\times$`env` spins beyond a buffer of `buffer` spins on each side. Then
# $I(H;E)=I(H;a,c)$ with $a,c$ the innermost environment spins, computed exactly from
# $P(a\mid s_1)=(1+as_1\tau)/2$, $\tau=\tanh(K)^{\text{buffer}+1}$. For the laws of this chapter
# (buffer 1, env 2; also buffer 0, env 1) the maximisers over all 14 non-constant $f$ are exactly
# $\pm s_1,\pm s_2$: RSMI's optimal binary coarse variable *is* decimation, and with shared weights it
# induces the coupling $\theta_1=\tanh^2K$.
# :::
#
# :::{prf:proof}
# Given $(s_1,s_2)$ the two sides of the window are independent Markov chains started at $s_1$ and
# $s_2$, so $E\perp(s_1,s_2)\mid(a,c)$ after summing the buffers, and $I(H;E)=I(H;a,c)$. The maximisers
# follow by exhausting the 14 tables (`rg.rsmi_ising_optimum`); the reduction is checked against
# brute-force enumeration of all $2^{2(\text{env}+\text{buffer})+2}$ windows (row `B-rsmi-enumeration`,
# and the unit tests on the smallest case). With $H_j=s_{2j}$ in every block the coarse chain is the
# decimated chain, of coupling $\tanh^2K$ ({prf:ref}`thm-ising-decimation`). $\square$
# :::
#
# The trained networks do *not* optimise the exact $I(H;E)$ over binary $H$: they maximise a Gaussian
# (linear-predictive) bound over continuous units, whose linear optimum is the block sum
# (`rg.rsmi_linear_optimum`). The table compares the three.

# %%
rsmi = {law: rg.rsmi_ising_optimum(rg.LAW_BY_NAME[law].param, sz.buffer, sz.env) for law in ("ising-away", "ising-near")}
display(Markdown("| law | K | optimal H | I(H;E) optimum (nats) | best non-decimation I (nats) | theta_1 at the optimum = tanh²K | theta_1 of the block sum |\n|---|---|---|---|---|---|---|\n" + "\n".join(
    f"| {law} | {o.K} | ±s1, ±s2 ({len(o.optimal)} tables) | {max(o.information.values()):.4f} | "
    f"{max(v for f, v in o.information.items() if f not in o.optimal):.4f} | {o.theta_optimal:.4f} | {o.theta_block_sum:.4f} |"
    for law, o in rsmi.items())))

# %% [markdown]
# ## Part B: trained hierarchies
#
# **Input laws** (ours): Ising chains with $K=0.5$ (away from criticality, $\xi=1.3$ sites) and $K=2$
# (near, $\xi=27$); Gaussian chains with $\phi=0.5$ ($u=0.8$) and $\phi=0.95$ ($u=0.9987\to1$); i.i.d.
# standardised Gamma(0.5) for the block-sum flow. Units are tanh for spins (so a layer can implement
# sign-decimation exactly) and linear otherwise. $N$ input sites, $L$ layers; every configuration
# (law, objective, weights) is one batched job of `n_seeds` hierarchies, each seed with its own
# training and probe data from an independent generator. The RSMI objective is undefined on i.i.d.
# data ($I(H;E)=0$ for every $H$), so the Gamma law is trained with the denoising objective only.
# Controls: the same hierarchies before training (random layers, same seeds, data and probes), and the
# trained hierarchies with each layer's unit order permuted (whether that is a null at all is checked
# below).

# %% tags=["nbval-ignore-output"]
study = rg.run_study(sz, base_seed=run.stream_seed("hierarchies") % 2**31, progress=False)
print(f"{len(study.results)} configurations x {sz.n_seeds} seeds, N = {sz.n_sites}, L = {sz.n_layers}, "
      f"{sz.steps} steps of batch {sz.batch_size}; probe {sz.n_probe} samples per seed")

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rg-layers", "caption": "Layer parameter $\\theta_l$ (mean lag-1 |Spearman| for chains, mean |skewness| for i.i.d. data) of trained hierarchies against the exact RG image $R^l(\\theta_0)$ (black), the proved local optimum where derived (dashed), and untrained hierarchies (grey). Solid: shared weights; dotted: unshared. Bands: 95 % t-intervals over 10 seeds with independent data."}}
laws = [l.name for l in rg.LAWS]
fig, ax = plots.subplots(len(laws), 1, width=2.6, height=2.8)
L = sz.n_layers
ls = np.arange(L + 1)
for j, law in enumerate(laws):
    a = ax[0, j]
    a.plot(ls, rg.rg_prediction(law, L), "k-", lw=1.5, label="R^l(θ0)")
    for o, col in (("denoise", "C0"), ("rsmi", "C1")):
        for arch, style in (("shared", "-"), ("unshared", ":")):
            r = study.results.get((law, o, arch))
            if r is None:
                continue
            m = r.theta.mean(0)
            se = r.theta.std(0, ddof=1) / math.sqrt(r.theta.shape[0])
            plots.band(a, ls, m, m - 2.26 * se, m + 2.26 * se, color=col, ls=style, label=f"{o}, {arch}")
            if arch == "shared":
                a.plot(ls, r.theta_init.mean(0), color="0.6", ls="--", lw=0.8, label="untrained" if o == "denoise" else None)
            loc = rg.local_optimum_prediction(law, o, L)
            if np.isfinite(loc[1:]).any() and arch == "shared":
                a.plot(ls[np.isfinite(loc)], loc[np.isfinite(loc)], ls="--", marker="x", color=col, lw=1,
                       label="block-sum optimum" if o == "denoise" else "exact RSMI optimum")
    a.set(title=law, xlabel="layer l", ylabel="θ_l" if j == 0 else None)
ax[0, 0].legend(fontsize=6)
plt.show()

# %% [markdown]
# ### Per family and objective: $\theta_l$ against $R^l(\theta_0)$
#
# Trained values with 95 % t-intervals over the seeds, the exact RG image, the proved local optimum
# where one is derived, and the untrained hierarchies.

# %% tags=["remove-input"]
table = rg.layer_table(study)
display(Markdown(rg.layer_table_markdown(table)))

# %% [markdown]
# ### RSMI on Ising: trained against exact
#
# Layer 1 of the trained RSMI hierarchies against the exact optimum of {prf:ref}`thm-rsmi-ising`
# ($\tanh^2K$) and against the block sum (the Gaussian bound's linear optimum):

# %% tags=["remove-input"]
lines = ["| law | weights | trained θ_1 (95 % CI) | exact RSMI optimum | block sum | trained layer-1 weights (mean) |", "|---|---|---|---|---|---|"]
from rgnb.stats import mean_ci
for law in ("ising-away", "ising-near"):
    for arch in ("shared", "unshared"):
        r = study.results[(law, "rsmi", arch)]
        w = r.first_w.mean(0)
        lines.append(f"| {law} | {arch} | {mean_ci(r.theta[:, 1]).format(3)} | {rsmi[law].theta_optimal:.3f} | "
                     f"{rsmi[law].theta_block_sum:.3f} | ({w[0]:.2f}, {w[1]:.2f}) |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Claims
#
# **The test (verdicts v3).** Every claim is declared once, in `rgnb.rg.registry`, before the run that
# fills it, and is one row of the ledger, decided by its registered *primary configuration*; the other
# configurations (law × objective × weights) are *sub-rows*, reported as "holds in k of m" and
# counted in no tally. The primary configuration is the Gaussian chain nearest criticality with the
# denoising objective and shared weights: the one setting where the local objective's optimum is
# proved ({prf:ref}`thm-local-dae`) and a shared layer can represent it; the reason is part of the
# registered spec. Both readings are *equivalence* claims ("no deviation from R"):
#
# - **T$_k$**: for every layer $l\ge1$, the per-seed deviation $\theta_l-R^l(\theta_0)$ is one effect; its
#   95 % interval inverts the exact sign-flip (randomisation) test over the seeds, and every layer must lie
#   within $\pm\delta$ by two one-sided tests (intersection-union: the row's p-value is the largest of
#   the layers').
# - **T**: the per-seed deviation $\theta_L-\theta^\star$ of the last layer, the same test.
# - **Positive control**: an equivalence test that cannot see a deviation proves nothing, so the same
#   deviations are measured on the *untrained* hierarchy (same seeds, data and probes), per layer, with
#   Bonferroni over the layers. If the untrained hierarchy is detected outside $\pm\delta$ the test has
#   power; if it passes the same equivalence the row is a **vacuous test**; if it is neither,
#   **inconclusive (underpowered)**. A configuration where some seed did not improve its local objectives
#   gives **premise not met** (the premise is registered with the claim).
#
# **Is the permuted-units hierarchy a null?** Only for a statistic that a permutation changes. We
# check it on every configuration:

# %%
perm = rg.permutation_check(study)
chain_perm = [c for c in perm if c["family"] != "gamma"]
iid_perm = [c for c in perm if c["family"] == "gamma"]
floor = rg.layer_rank_correlation(run.numpy_rng("noise-floor").standard_normal((2000, sz.n_probe, 4)))
away = [c for c in chain_perm if "-away," in c["configuration"]]
print(f"chains: permuting each layer's units changes theta_l (l >= 1) by {min(c['max_abs_change'] for c in chain_perm):.3f} "
      f"to {max(c['max_abs_change'] for c in chain_perm):.3f} (largest over seeds and layers, per configuration)")
print(f"i.i.d. Gamma: by at most {max(c['max_abs_change'] for c in iid_perm):.1e} (rounding): the mean |skewness| is a "
      "per-unit statistic")
print(f"noise floor: mean |Spearman| of 4 uncorrelated units x {sz.n_probe} samples = {floor.mean():.3f} +- {floor.std():.3f}")
print(f"away from criticality, last layer: trained theta_L {min(c['theta_L'] for c in away):.3f}-{max(c['theta_L'] for c in away):.3f}, "
      f"permuted {min(c['theta_L_permuted'] for c in away):.3f}-{max(c['theta_L_permuted'] for c in away):.3f}")
L_ = sz.n_layers
print(f"exact R^L(theta_0) at L = {L_}: " + ", ".join(f"{law} {rg.rg_prediction(law, L_)[-1]:.3f}"
                                                       for law in ("gauss-near", "ising-near")))

# %% [markdown]
# On i.i.d. data the permutation leaves $\theta$ unchanged, so it is **dropped as a null** there. On
# chains it does change $\theta$, but not because $\theta$ depends on a labelling: in a local hierarchy
# a unit's position is part of the network (it is wired to one block), and the permutation builds a
# different object, a hierarchy without spatial order, whose $\theta_l$ falls to the noise floor. We
# show it (above) but do not register it as a second positive control: the rule counts a control as
# *detected* when any of them is, so a second control could only make a vacuous test look powered.
# What it does show is the chapter's result about T: away from criticality the permuted hierarchies'
# last layer sits at $\theta^\star$ within $\pm\delta$ just as the trained ones do, at the estimator's
# noise floor. **Any contraction reaches the trivial fixed point of a 1D chain** after a few layers
# (decimation, block sums, random layers or shuffled ones), so "the output is at the fixed point" is a
# test with power only near criticality, where an exact RG itself needs about $\log_2\xi$ layers
# (the last printed line: the exact image after $L$ layers).
#
# The theorems above are linked to their rows: {prf:ref}`thm-ising-decimation` → `A-map-ising`;
# {prf:ref}`thm-gauss-decimation` → `A-map-gauss`, `A-critical-eigenvalue`; {prf:ref}`thm-block-sum` →
# `A-map-iid`; {prf:ref}`thm-local-dae` and {prf:ref}`thm-rsmi-ising` → `ours-local-optimum` (and
# `B-rsmi-enumeration`); {prf:ref}`def-readings` → `P2-Tk` and `P2-T`.

# %% tags=["remove-input"]
rows = rg.build_claims(checks, study, run.profile)
claims.record(run, rows, specs=rg.REGISTRY)

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rg-forest", "caption": "Every claim's effects with their 95 % intervals, in units of the claim's margin (the shaded band is the equivalence band $\\pm\\delta$ of the absence claims; a sanity check passes when its value, in units of its bound, is below 1). For `P2-Tk`, `P2-T` and `ours-local-optimum`: the primary configuration's per-layer deviations (sign-flip intervals over 10 seeds) and below them the positive control (the untrained hierarchy). Colour: the row's verdict."}}
fig, ax = plots.forest(rows)
plt.show()

# %% [markdown]
# ## What the verdicts say
#
# The lines below are printed from the ledger rows of this run (the tables above are the record):

# %%
from collections import Counter
for r in rows:
    if r.source == "sanity check":
        continue
    subs = Counter(s["verdict"] for s in r.subrows)
    out = [k for k, e in r.effects.items() if e["low"] > rg.DELTA or e["high"] < -rg.DELTA]
    print(f"{r.id} ({r.configuration}): {r.verdict}; critical margin {r.critical_margin}; outside +-delta: "
          f"{', '.join(out) or 'none'}; other configurations: holds in {r.holds} "
          f"({', '.join(f'{n} {v}' for v, n in subs.items())})")

# %% [markdown]
# - **T$_k$.** The trained layers are not decimation: on the primary configuration the deviation from
#   $R^l(\theta_0)$ grows layer by layer beyond $\pm\delta$, and no other configuration holds. The
#   denoising layers sit at the block-sum optimum instead (`ours-local-optimum` and {numref}`fig-rg-layers`),
#   which is a different coarse-graining: one block-sum step and one decimation step differ little in
#   $\theta$ near criticality, but the difference accumulates over the layers.
# - **T.** On the primary configuration the last layer is not at $\theta^\star$. Away from criticality
#   the sub-rows are *vacuous tests*: the untrained hierarchies pass the same equivalence, as the
#   permutation check above predicts. The theorem's own reading therefore has no configuration here in
#   which it is both tested with power and true.
# - **ours-local-optimum.** The trained layers match the proved block-sum optimum on the lower layers of
#   the primary configuration; where the verdict is not *reproduced*, the printed line says which
#   contrast straddles or leaves the band (the deepest layers have the fewest units and the widest
#   intervals).
# - Sub-rows marked *premise not met* are configurations where one seed of ten did not improve its local
#   objective; no verdict is drawn there.
#
# The answer to the authors' statement, as we read it: the trained local hierarchies perform *an*
# RG-like coarse-graining (the optimum of their local objective, derived here), not the decimation RG,
# and "the output is at the fixed point" holds only in a form that untrained and shuffled networks
# also satisfy.
#
# ### Protocol history
#
# What changed after which result, as recorded in `results/claims_history.json` (the post hoc status of
# each row is derived from it, never typed):

# %%
ids = {"P2-Tk", "P2-T", "ours-local-optimum"}
from rgnb.claims import registry as claims_registry
for e in claims_registry.protocol_history(ids, claims_registry.load_history()):
    mine = set(e.get("claims") or [e["claim"]])
    if mine & ids or "*" in mine:
        print(f"{e['date']} {e['event']:8s} {', '.join(sorted(mine & ids) or ['every claim'])}: "
              f"{e.get('what') or e.get('spec_hash', '')}")
for r in rows:
    if r.source != "sanity check":
        print(f"{r.id}: {'post hoc: ' + r.post_hoc_reason if r.post_hoc else 'not post hoc'}")

# %% [markdown]
# - **Fully connected → local hierarchies.** The first version of this chapter tested both readings on
#   fully connected bottlenecks; after that run we found the "coupling between feature units" to be a
#   function of the units' labelling ({prf:ref}`thm-fc-dae-gauge`) and replaced the networks by local
#   hierarchies with a lattice. That change came after a result, so `P2-Tk` and `P2-T` are **post hoc**:
#   they are shown, but not counted in the paper-claim tally or in the Holm family.
# - **v2 → v3.** The v2 ledger judged every configuration as its own row (two paper rows per
#   configuration), each against a threshold with the nulls' own intervals required on the failing side.
#   The v3 rule (one rule for every chapter, recorded as a `rule` event, not as a change of these claims)
#   re-declared them as one row per reading, an equivalence test of paired per-seed deviations with a
#   positive control, decided by a registered primary configuration. That primary configuration was
#   registered with the v2 ledger already visible; its reason (where the local optimum is proved) does
#   not depend on the results, but the reader should know the order of events.
# - The permuted-units null of v2 is gone from the rows (see above), and the margin $\delta$ is the v2
#   tolerance, carried over unchanged with its reason now stored in the registry.

# %% [markdown]
# ## What this chapter does not do
#
# - The hierarchies are small (two weights and a bias per layer, or per unit) and trained for a few
#   hundred steps on a CPU at the `reference` profile ($N=256$, $L=6$, 10 seeds, 1,024 probe samples per
#   seed); the `full` profile scales them ($N=1024$, 32 seeds, 4,000 steps). No wider units, no
#   end-to-end (non-greedy) training, and no InfoNCE bound: RSMI is trained with the Gaussian
#   (linear-predictive) bound only, which is why its optimum is a block sum rather than the exact
#   binary optimum.
# - The fully connected networks of the earlier version of this chapter are not trained any more; the
#   fully connected DAE survives as {prf:ref}`thm-fc-dae-gauge`, an exact statement of why it is ill-posed.
