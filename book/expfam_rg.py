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
from rgnb.rg import tables as rg_tables

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
# Let $R$ be an exact $b=2$ RG map of the input family (decimation for chains, block sums for i.i.d. data),
# written in the parameter $\theta$, and $\theta^\star$ its stable fixed point.
# **(a) The feature layer at the fixed point**: the trained network's feature layer, at a depth $L^\star$ where
# every exact RG of the family is within half the margin of $\theta^\star$, sits where the exact RG is at that
# depth: $|\theta_{L^\star}-R^{L^\star}(\theta_0)|<\delta$.
# **(b) A trained layer is an RG step**: the map $\theta_{l+1}=f(\theta_l)$ that a trained layer implements,
# estimated from networks trained on a grid of input couplings, has the fixed-point structure of an RG: a stable
# trivial fixed point and an unstable critical one with a relevant eigenvalue. This reading presupposes no scheme;
# which exact map $f$ is (decimation or block sum) is a separate question, answered by its eigenvalues.
# Both are measured per configuration (input law, objective, weights) over $\ge 10$ seeds, each with its own data;
# the margins and the depth rule are registered in `rgnb.rg.registry` with their reasons.
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
# The scan below is exact, from the closed form: the same optimal loss, any lag-1 feature correlation.

# %%
scan = rg.fc_dae_gauge_scan(0.7, 32, 8, 0.5, np.linspace(-0.9, 0.9, 19))
print(f"optimal gauges: fitted u from {scan['u'].min():.2f} to {scan['u'].max():.2f}, "
      f"max relative excess loss {np.abs(scan['excess']).max():.1e} (all optimal); PCA gauge u = {scan['u_pca']:.1e}; "
      f"gauge rho = 0.5: u = {scan['u_gauge05']:.3f}, same units relabelled: u = {scan['u_gauge05_permuted']:.3f}")

# %% [markdown]
# :::{prf:theorem} At the fully connected optimum the feature layer's law carries no parameter
# :label: thm-fc-gauge-free
#
# In the setting of {prf:ref}`thm-fc-dae-gauge` with Gaussian $x$, let $\theta$ be any function of the law of the
# feature output $z=Wx$ that is constant on the optimal set. Then $\theta$ is constant on all centred Gaussian laws
# of dimension $M$: it says nothing about the input. The gauge-invariant content of the optimum is the projector
# $P=W^\top(WW^\top)^{-1}W=U_MU_M^\top$ on the top-$M$ eigenvectors of $C$ (for a stationary chain with periodic
# boundary, the $M$ lowest Fourier modes: a momentum-shell coarse graining, not a real-space RG).
# :::
#
# :::{prf:proof}
# $z$ is Gaussian with covariance $A\Lambda_MA^\top$, and by {prf:ref}`thm-fc-dae-gauge` every positive-definite
# $S$ is attained at the optimum; a centred Gaussian law is its covariance, so $\theta$ takes one value on all of
# them. $P$ is unchanged by $W\mapsto AW$ ($A$ cancels), and every optimal $W$ has row space $\operatorname{span}U_M$.
# For a circulant $C$ the eigenvectors are Fourier modes, with eigenvalues decreasing in $|k|$ when the
# correlations are positive. $\square$
# :::
#
# So P2's statement, read on the feature layer of a fully connected network at its optimum, is **ill-posed**:
# row `ours-fc-ill-posed` records the spread of the lag-1 feature parameter over the optimal set (exact, from the
# closed form above), and the rest of the chapter tests the statement on networks whose layers have a lattice.

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
# So a trained local denoiser at its optimum is a block-sum step, not a decimation step: comparing its layers
# with decimation measures the analytic gap between two schemes, not the theorem. Reading (b) therefore fits the
# map a trained layer implements and compares it with *both* exact maps (row `ours-block-sum`).
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
display(Markdown(rg_tables.rsmi_optimum_markdown(rsmi)))


# %% [markdown]
# ## Part B: trained hierarchies
#
# **Input laws** (ours): Ising chains with $K=0.5$ (away from criticality) and $K=2$ (near); Gaussian chains with
# $\phi=0.5$ (away) and $\phi=0.95$ (near, $u\to1$); i.i.d. standardised Gamma(0.5) for the block-sum flow. Units
# are tanh for spins (so a layer can implement sign-decimation exactly) and linear otherwise. Every configuration
# (law, objective, weights) is one batched job of `n_seeds` hierarchies, each seed with its own training and probe
# data. The RSMI objective is undefined on i.i.d. data ($I(H;E)=0$ for every $H$), so the Gamma law is trained with
# the denoising objective only.
#
# - **Depth (registered rule).** The feature layer of a law sits at the smallest depth $L^\star$ at which every
#   exact map of its family (decimation, and block sums where they stay in the family) is within $\delta/2$ of
#   $\theta^\star$ (`rg.feature_depth`); the Gamma law's block-sum flow never gets there at a trainable depth, so it
#   is tested at a fixed depth against $R^{L}(\theta_0)$ itself. The feature layer has four units.
# - **Noise floor.** With independent units the layer parameter is not zero but a folded normal: its mean and sd
#   are closed-form (`rg.rank_noise_floor`), checked against simulation (row `B-noise-floor`); the probe is large
#   enough that the floor is a quarter of the margin.
# - **Premise: a certified optimum.** For the local linear denoiser on Gaussian chains the optimum is proved
#   ({prf:ref}`thm-local-dae`), so every network's loss gap to it is measured at every layer; elsewhere the
#   criterion is stationarity (the gradient norm of the summed local objectives on held-out data). The networks
#   that miss it are counted in the row.
# - **Nulls that can fail.** The untrained hierarchy (same seeds, data and probes), and the trained hierarchy on
#   *site-shuffled* inputs: one permutation of the input sites per network breaks the chain's spatial order, which
#   the layer parameter does see. (The v2 unit permutation of the layers is dropped: it does not change a
#   per-unit statistic such as the skewness, and on chains it builds a network without a lattice.)
# - **Layer map.** One-layer networks trained on a grid of input couplings (`rg.config.MAP_GRID`, per seed and
#   coupling its own data); the points (coupling in, coupling out) of each seed give a fitted quadratic map
#   (`rg.fit_layer_map`, a family that contains both exact maps), its fixed points and eigenvalues.

# %% tags=["nbval-ignore-output"]
study = rg.run_study(sz, base_seed=run.stream_seed("hierarchies") % 2**31, progress=False)
maps = rg.run_map_study(sz, base_seed=run.stream_seed("layer-map") % 2**31)
floor = rg.noise_floor_check(run.numpy_rng("noise-floor"))
rows = rg.build_claims(checks, study, maps, floor, run.profile, noise=sz.noise)
print(f"{len(study.results)} feature-layer configurations x {sz.n_seeds} seeds, {len(maps)} layer-map configurations "
      f"x {len(rg.config.MAP_GRID)} couplings x {sz.n_seeds} seeds; {sz.steps} steps of batch {sz.batch_size}; "
      f"probe {sz.n_probe} samples per network")

# %%
depths = {law.name: rg.feature_depth(law.name, rg.DELTA) for law in rg.LAWS}
fl_mean, fl_sd = rg.rank_noise_floor(sz.n_probe, sz.feature_units)
reg_mean, reg_sd = rg.rank_noise_floor(rg.registry.PROBE, 4)
print("registered depths L*: " + ", ".join(f"{k} {v}" for k, v in depths.items()))
print(f"noise floor of the layer parameter, 4 units x {rg.registry.PROBE} samples (the registered probe): "
      f"{reg_mean:.4f} +- {reg_sd:.4f} closed form, {floor[0]:.4f} (SE {floor[1]:.1e}) simulated; margin {rg.DELTA:g}")
print(f"this profile's probe ({sz.n_probe} samples): floor {fl_mean:.4f} +- {fl_sd:.4f}")

# %% [markdown]
# ## Results
#
# ### What the chapter finds
#
# - **What can be proved.** The exact maps and their fixed points (Part A); the optimum of the local linear
#   denoiser is the block sum, not decimation ({prf:ref}`thm-local-dae`); at the fully connected optimum the feature
#   layer's law is not determined ({prf:ref}`thm-fc-gauge-free`), so P2's statement is ill-posed there.
# - **Away from criticality the statement has no content to test.** The stable fixed point of a 1D chain is
#   trivial: any local contraction gets there within a few layers. Whether a trained feature layer sits at it is
#   then no evidence of RG, which is why every feature-layer row carries the untrained hierarchy as its control and
#   `ours-empty` tests the claim that nothing is needed to get there.
# - **Reading (a)** is decided at the depth at which the exact RG itself has reached $\theta^\star$; **reading (b)**
#   asks what a trained layer *does*, without presupposing a scheme, through the fitted map's fixed points and
#   eigenvalues against both exact maps ({numref}`fig-rg-layer-map`).
# - Rows whose networks are not at a certified optimum (or not stationary) say **premise not met**, with the
#   networks counted; no verdict is drawn from them.
#
# **In the stored reference run** (the rows below say it with their numbers):
#
# - No P2 row reaches a verdict: the premise fails on both primary configurations. The deep layers of the
#   feature-layer hierarchies are far from their certified optimum (the greedy layers train concurrently while the
#   scale of their inputs grows with depth, and the step budget is fixed), and a few one-layer networks of the grid
#   miss the bound too. The effects are still shown: the trained feature layer sits within the margin of the exact
#   RG at its depth, and so does the untrained one, so the test would have been vacuous; the trained layer map has
#   its fixed points at $0$ and $1$ with the block sum's eigenvalues, not decimation's, for every objective and both
#   families, while random same-sign layers also have an unstable critical fixed point (the placebo of `P2-step`
#   passes its test). A fitted quadratic ties the two eigenvalues ($\lambda_c-1=1-\lambda_0$), so the two contrasts
#   of `P2-step` and of `ours-block-sum` are one number each.
# - `ours-empty` is not reproduced, and the reason is the null, not the chain: the untrained hierarchies do sit at
#   $\theta^\star$, but the trained hierarchies fed site-shuffled inputs do not. On a finite window each feature unit
#   of a shuffled hierarchy sums sites scattered over the whole window, so neighbouring units share correlated site
#   pairs: breaking the order is not a contraction.
#
# Each claim, as decided by its registered primary configuration (computed from the ledger rows below):

# %% tags=["remove-input"]
display(Markdown(claims.findings_markdown(rows)))

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rg-layer-map", "caption": "Layer maps in the family's coupling $x$ (Gaussian-copula Pearson $\\rho$; $\\tanh K$ for Ising): points are one-layer networks (trained: colour; untrained: grey), one per seed and input coupling of the grid; the thick line is the trained map fitted to all seeds, with its fixed points (circles); black: decimation $x^2$; dashed: block sum $x(1+x)/2$; dotted: the identity."}}
keys = list(maps)
fig, ax = plots.subplots(len(keys), 1, width=2.6, height=2.6)
xx = np.linspace(0, 1, 101)
for j, key in enumerate(keys):
    m, a = maps[key], ax[0, j]
    for which, col in (("theta_init", "0.7"), ("theta", "C0")):
        th = getattr(m, which)
        a.plot(rg.natural_coupling(th[..., 0], m.family).ravel(), rg.natural_coupling(th[..., 1], m.family).ravel(),
               ".", color=col, ms=2.5)
    th = m.theta
    fit = rg.fit_layer_map(rg.natural_coupling(th[..., 0], m.family).ravel(),
                           rg.natural_coupling(th[..., 1], m.family).ravel())
    a.plot(xx, fit(xx), color="C3", lw=2, label="trained map (fit)")
    a.plot([fit.fixed_trivial, fit.fixed_critical], [fit.fixed_trivial, fit.fixed_critical], "o", color="C3", ms=6,
           mfc="none")
    a.plot(xx, rg.exact_layer_map("decimation")(xx), "k-", lw=1, label="decimation")
    if m.family == "gauss":
        a.plot(xx, rg.exact_layer_map("block sum")(xx), "k--", lw=1, label="block sum")
    a.plot(xx, xx, "k:", lw=0.8)
    a.set(title=f"{key[0]}, {key[1]}, {key[2]}", xlabel="x_l", ylabel="x_(l+1)" if j == 0 else None, xlim=(0, 1),
          ylim=(-0.05, 1.02))
ax[0, 0].legend(fontsize=6)
plt.show()

# %% [markdown]
# Per configuration, the fitted map's fixed points and eigenvalues (mean over seeds, 95 % t-interval), against
# decimation (trivial fixed point: eigenvalue 0; critical: 2) and the block sum (0.5 and 1.5):

# %% tags=["remove-input"]
from rgnb.stats import mean_ci
display(Markdown(rg_tables.map_fixed_points_markdown(maps)))

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rg-layers", "caption": "Layer parameter $\\theta_l$ (mean lag-1 |Spearman| for chains, mean |skewness| for i.i.d. data) of the shared-weight hierarchies up to each law's registered feature depth, against the exact decimation image (black) and the block sum (dashed), the untrained hierarchies (grey) and the trained ones on site-shuffled inputs (dotted); the band at the bottom is the estimator's noise floor (mean + 2 sd). Bands: 95 % t-intervals over 10 seeds with independent data."}}
laws = [l.name for l in rg.LAWS]
fig, ax = plots.subplots(len(laws), 1, width=2.6, height=2.8)
for j, law in enumerate(laws):
    a = ax[0, j]
    L = depths[law]
    ls = np.arange(L + 1)
    a.plot(ls, rg.rg_prediction(law, L), "k-", lw=1.5, label="decimation")
    a.plot(ls, rg.block_sum_prediction(law, L), "k--", lw=1, label="block sum")
    a.axhspan(0, fl_mean + 2 * fl_sd, color="0.9")
    for o, col in (("denoise", "C0"), ("rsmi", "C1")):
        r = study.results.get((law, o, "shared"))
        if r is None:
            continue
        m = r.theta.mean(0)
        se = r.theta.std(0, ddof=1) / math.sqrt(r.theta.shape[0])
        plots.band(a, ls, m, m - 2.26 * se, m + 2.26 * se, color=col, label=f"{o}")
        a.plot(ls, r.theta_init.mean(0), color="0.6", lw=0.8, label="untrained" if o == "denoise" else None)
        a.plot(ls, r.theta_shuffled.mean(0), color=col, ls=":", lw=1, label="site-shuffled" if o == "denoise" else None)
    a.set(title=law, xlabel="layer l", ylabel="θ_l" if j == 0 else None)
ax[0, 0].legend(fontsize=6)
plt.show()

# %% [markdown]
# ### The feature layer of every configuration
#
# Trained values at the registered depth with 95 % t-intervals, the exact decimation and block-sum images there,
# and the untrained hierarchy:

# %% tags=["remove-input"]
display(Markdown(rg.layer_table_markdown(rg.layer_table(study))))

# %% [markdown]
# ### Optimality
#
# The premise of every trained-network row, per configuration: the certified loss gap where the optimum is known,
# the gradient norm elsewhere.

# %% tags=["remove-input"]
display(Markdown(rg_tables.premise_markdown(study, sz.noise)))

# %% [markdown]
# ### RSMI on Ising: trained against exact
#
# Layer 1 of the trained RSMI hierarchies against the exact optimum of {prf:ref}`thm-rsmi-ising`
# ($\tanh^2K$) and against the block sum (the Gaussian bound's linear optimum):

# %% tags=["remove-input"]
display(Markdown(rg_tables.rsmi_layer_markdown(study, rsmi)))

# %% [markdown]
# ## Claims
#
# **The test (verdicts v3).** Every claim is declared once, in `rgnb.rg.registry`, before the run that fills it, and
# is one row of the ledger, decided by its registered *primary configuration*; the other configurations are
# *sub-rows* ("holds in k of m", in no tally). The primary configuration of the feature-layer rows is the Gaussian
# chain nearest criticality with the denoising objective and shared weights, and of the layer-map rows the Gaussian
# chain with the same objective: the settings where the optimum is proved, so that the premise is a certified
# optimum.
#
# - **P2-feature** (absence): per seed $\theta_{L^\star}-R^{L^\star}(\theta_0)$ within $\pm\delta$ (sign-flip interval
#   over the seeds, two one-sided tests); positive control the untrained hierarchy's feature layer.
# - **P2-step** (presence): the fitted map's critical eigenvalue above $1$ and its trivial one below $1$, each beyond
#   the registered margin; placebo the untrained networks' map (a placebo that passes too makes the test vacuous).
# - **ours-empty** (absence): away from criticality the untrained and site-shuffled hierarchies are within
#   $\pm\delta$ of $\theta^\star$; positive control the input layer.
# - **ours-block-sum** (absence): the fitted map's eigenvalues within the margin of the block sum's; positive control
#   the untrained map.
# - **ours-fc-ill-posed** (presence, exact): the spread of the fully connected optimum's feature parameter over its
#   optimal set exceeds the resolution of the other rows.

# %% tags=["remove-input"]
claims.record(run, rows, specs=rg.REGISTRY)

# %% tags=["remove-input"] mystnb={"figure": {"name": "fig-rg-forest", "caption": "Every claim's effects with their 95 % intervals, in units of the claim's margin (the shaded band is the equivalence band of the absence claims; presence claims pass right of the dashed line); positive controls and placebos below the contrasts. Colour: the row's verdict."}}
fig, ax = plots.forest([r for r in rows if r.kind != "check"])
plt.show()

# %% [markdown]
# ### Protocol history
#
# What changed after which result, as recorded in `results/claims_history.json` (the post hoc status of each row is
# derived from it, never typed):

# %%
ids = {r.id for r in rows if r.source != "sanity check"} | {"P2-Tk", "P2-T", "ours-local-optimum"}
from rgnb.claims import registry as claims_registry
print("\n".join(claims_registry.history_lines(ids, claims_registry.load_history())
                + [f"{r.id}: {'post hoc: ' + r.post_hoc_reason if r.post_hoc else 'not post hoc'}"
                   for r in rows if r.source != "sanity check"]))

# %% [markdown]
# - **Fully connected → local hierarchies.** The first version of this chapter tested the theorem on fully
#   connected bottlenecks; after that run we found their "coupling between feature units" to depend on the units'
#   labelling ({prf:ref}`thm-fc-dae-gauge`) and moved to local hierarchies with a lattice.
# - **v2 → v3 (issue 23).** The v3 rows of the previous version (`P2-Tk`: every layer is a decimation step; `P2-T`:
#   the last layer at $\theta^\star$; `ours-local-optimum`) compared trained layers with decimation although the local
#   objective's optimum is provably the block sum, tested the last layer at a depth where the exact RG itself had not
#   reached $\theta^\star$, took "improved its objective" for an optimum, and had a null that the statistic could not
#   see. They are replaced by `P2-step`, `P2-feature` and `ours-block-sum`, registered after those results: the
#   replacements are therefore **post hoc**, shown but outside the paper-claim tally and the Holm family.

# %% [markdown]
# ## What this chapter does not do
#
# - The hierarchies are small (two weights and a bias per layer, or per unit) and trained greedily on local
#   objectives on a CPU; no wider units and no end-to-end training. RSMI is trained with the Gaussian
#   (linear-predictive) bound only, which is why its optimum is a block sum rather than the exact binary optimum.
# - The layer map is estimated from the first layer only (input chains of the family); deeper layers act on block
#   sums, which leave the nearest-neighbour family, so their map is not a function of one coupling.
# - The fully connected networks are not trained: the fully connected DAE enters through its closed-form optimum
#   ({prf:ref}`thm-fc-gauge-free`), an exact statement of why the theorem is ill-posed there.
