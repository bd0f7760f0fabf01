"""Families, objectives, architectures, fixed points and sizes of the RG chapter (lowest module of rgnb.rg).

Everything here is fixed before any run: the input laws (away from and near criticality), the
objectives and architectures of the local coarse-graining hierarchies, the stable fixed points of
each flow, and the sizes per profile.
"""

from __future__ import annotations

import dataclasses

FAMILIES_CHAIN = ("ising", "gauss")
FAMILIES_IID = ("gamma", "poisson", "normal")
OBJECTIVES = ("denoise", "rsmi")
ARCHITECTURES = ("shared", "unshared")


@dataclasses.dataclass(frozen=True)
class InputLaw:
    """One input law of the network study.

    ``family``: ``"ising"`` (coupling ``param`` = K, h = 0), ``"gauss"`` (Gaussian chain with lag-1
    correlation ``param`` = phi, unit variance, so ``u = 2 phi / (1 + phi^2)``) or ``"gamma"`` (i.i.d.
    Gamma with shape ``param``, standardised). ``regime``: ``"away"`` or ``"near"`` criticality.
    """

    name: str
    family: str
    param: float
    regime: str


#: The input laws (our choices). Near criticality: large K (xi = 27 sites) and u -> 1 (phi = 0.95, u = 0.9987).
LAWS = (InputLaw("ising-away", "ising", 0.5, "away"), InputLaw("ising-near", "ising", 2.0, "near"),
        InputLaw("gauss-away", "gauss", 0.5, "away"), InputLaw("gauss-near", "gauss", 0.95, "near"),
        InputLaw("gamma-iid", "gamma", 0.5, "iid"))
LAW_BY_NAME = {law.name: law for law in LAWS}

#: Activation of every coarse unit per family: tanh for spins (so a layer can implement sign-decimation),
#: identity for continuous data (the block-sum and Gaussian maps are linear).
ACTIVATION = {"ising": "tanh", "gauss": "linear", "gamma": "linear"}

#: Stable fixed point of each flow in the gauge-invariant parameter of the layer: lag-1 rank
#: correlation 0 for the chains (K* = 0, u* = 0), standardised skewness 0 (the Gaussian) for i.i.d. data.
FIXED_POINT = {"ising": 0.0, "gauss": 0.0, "gamma": 0.0}


@dataclasses.dataclass(frozen=True)
class RGSizes:
    """Sizes of the chapter's runs (one table per profile)."""

    # Part A: Monte Carlo checks of the exact maps
    n_chains: int                  # independent chains (jackknife units)
    chain_length: int              # sites per chain before decimation (a power of 2)
    rg_steps: int                  # decimation steps checked by Monte Carlo
    n_iid: int                     # i.i.d. draws in the block-sum checks (a power of 2)
    n_groups: int                  # jackknife groups for the i.i.d. checks
    # Part B: local coarse-graining hierarchies
    n_sites: int                   # N input sites (a power of 2, >= 2^(n_layers + 2))
    n_layers: int                  # L local b = 2 layers: layer l has N / 2^l units at spacing 2^l
    n_seeds: int                   # independent networks per configuration, each with its own data
    steps: int                     # optimiser steps
    batch_size: int
    lr: float
    pool: int                      # training samples per seed (independent generator per seed)
    n_probe: int                   # held-out samples per seed on which layer parameters are measured
    noise: float = 0.5             # denoising noise, in units of each input unit's sd
    buffer: int = 1                # RSMI buffer units between a block and its environment
    env: int = 2                   # RSMI environment units on each side
    feature_units: int = 4         # units of the feature layer (its depth is the registered depth rule)
    map_sites: int = 64            # input sites of the one-layer networks of the layer-map study


#: Input couplings of the layer-map study (the family's natural coupling x: Pearson phi of the Gaussian chain,
#: tanh K of the Ising chain), fixed before any run: spread over (0, 1), denser towards the critical x = 1.
MAP_GRID = (0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)
#: Configurations of the layer-map study (family, objective, architecture); the first is the primary.
MAP_CONFIGURATIONS = (("gauss", "denoise", "shared"), ("gauss", "denoise", "unshared"), ("gauss", "rsmi", "shared"),
                      ("ising", "rsmi", "shared"), ("ising", "denoise", "shared"))


SMOKE = RGSizes(n_chains=32, chain_length=2 ** 12, rg_steps=3, n_iid=2 ** 17, n_groups=32,
                n_sites=256, n_layers=4, n_seeds=10, steps=30, batch_size=32, lr=0.05, pool=256, n_probe=512)
REFERENCE = RGSizes(n_chains=64, chain_length=2 ** 13, rg_steps=4, n_iid=2 ** 18, n_groups=32,
                    n_sites=256, n_layers=6, n_seeds=10, steps=150, batch_size=32, lr=0.05, pool=1024,
                    n_probe=4096)
FULL = RGSizes(n_chains=128, chain_length=2 ** 15, rg_steps=6, n_iid=2 ** 22, n_groups=64,
               n_sites=1024, n_layers=6, n_seeds=32, steps=4000, batch_size=256, lr=0.01, pool=2 ** 15,
               n_probe=2 ** 14)
SIZES = {"smoke": SMOKE, "reference": REFERENCE, "full": FULL}


def sizes(profile: str) -> RGSizes:
    """The sizes for a profile name (``smoke``, ``reference``, ``full`` or ``auto``)."""
    from rgnb.profiles import sizes_for
    return sizes_for(SIZES, profile)
