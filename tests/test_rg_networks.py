"""rgnb.rg.networks and the exact RSMI optimum: brute force on the smallest case, a hand-built
decimation hierarchy passes T_k and a random one fails it, training improves the local objectives,
each seed has its own data, bad inputs."""

import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch

from rgnb import rg

SMALL = dataclasses.replace(rg.SMOKE, n_sites=64, n_layers=3, n_seeds=3, steps=20, pool=128, n_probe=256)


@pytest.mark.parametrize("buffer,env", [(0, 1), (1, 1), (1, 2)])
def test_rsmi_information_equals_brute_force_enumeration(buffer, env):
    for f in rg.COARSE_FUNCTIONS:
        for K in (0.3, 1.1):
            assert rg.rsmi_information(f, K, buffer, env) == pytest.approx(
                rg.rsmi_information_brute_force(f, K, buffer, env), abs=1e-13)


def test_rsmi_exact_optimum_is_decimation_on_the_smallest_case():
    # smallest case: block 2, buffer 0, env 1; exhaust all 14 non-constant binary coarse variables
    for K in (0.2, 0.5, 2.0):
        opt = rg.rsmi_ising_optimum(K, buffer=0, env=1)
        assert set(opt.optimal) == {(1, 1, -1, -1), (-1, -1, 1, 1), (1, -1, 1, -1), (-1, 1, -1, 1)}  # +-s1, +-s2
        assert opt.theta_optimal == pytest.approx(math.tanh(K) ** 2, abs=1e-12)
        best = max(opt.information.values())
        assert best == pytest.approx(rg.rsmi_information_brute_force((1, 1, -1, -1), K, 0, 1), abs=1e-13)
    # the block sum induces a different coupling than the exact optimum
    opt = rg.rsmi_ising_optimum(0.5)
    assert opt.theta_block_sum - opt.theta_optimal > 0.1


def test_coarse_rank_correlation_matches_sampling():
    s = rg.sample_ising_chain(0.6, 0.0, 40000, 4, seed=7).astype(float)
    z = np.stack([s[:, 0] + s[:, 1], s[:, 2] + s[:, 3]], 1)[None]
    assert rg.layer_rank_correlation(z)[0] == pytest.approx(rg.coarse_rank_correlation((2, 0, 0, -2), 0.6), abs=0.015)


def _deviation(theta, law_name):
    """Per seed, the largest |theta_l - R^l(theta_0)| over layers l >= 1."""
    return np.abs(theta[:, 1:] - rg.rg_prediction(law_name, theta.shape[1] - 1)[None, 1:]).max(axis=1)


def _spec(arch="shared", act="tanh", obj="denoise", n=64, L=3):
    return rg.HierarchySpec(n, L, arch, act, obj)


@pytest.mark.parametrize("arch", ["shared", "unshared"])
def test_hand_built_decimation_passes_Tk_and_random_fails(arch):
    law = rg.LAW_BY_NAME["ising-away"]
    spec = _spec(arch)
    x = torch.as_tensor(rg.sample_law(law, 6 * 3000, 64, seed=11).reshape(6, 3000, 64))
    dec = rg.measure(rg.decimation_hierarchy(spec, 6), x, spec, "ising")
    D = _deviation(dec, law.name)
    assert np.all(D < rg.DELTA)
    rnd = rg.measure(rg.init_hierarchy(spec, 6, torch.Generator().manual_seed(3)), x, spec, "ising")
    assert np.mean(_deviation(rnd, law.name)) > rg.DELTA


def test_gaussian_decimation_hierarchy_passes_Tk():
    law = rg.LAW_BY_NAME["gauss-near"]
    spec = _spec(act="linear")
    x = torch.as_tensor(rg.sample_law(law, 4 * 3000, 64, seed=12).reshape(4, 3000, 64))
    th = rg.measure(rg.decimation_hierarchy(spec, 4), x, spec, "gauss")
    assert np.all(_deviation(th, law.name) < rg.DELTA)


def test_training_improves_local_objectives_and_is_deterministic():
    a = rg.train_hierarchy("gauss-away", "denoise", "shared", SMALL, base_seed=1)
    b = rg.train_hierarchy("gauss-away", "denoise", "shared", SMALL, base_seed=1)
    assert a.theta.shape == (3, 4) and a.loss_final.shape == (3, 3)
    assert np.all(a.loss_final.sum(1) < a.loss_init.sum(1))
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.grad_norm.shape == (3,) and np.all(a.grad_norm > 0) and a.theta_shuffled.shape == a.theta.shape
    assert np.all(a.theta_shuffled[:, 1] < 0.15)          # order broken: neighbours decorrelate (floor ~ 0.05)
    r = rg.train_hierarchy("ising-near", "rsmi", "unshared", SMALL, base_seed=1)
    assert np.all(np.isfinite(r.theta)) and np.all(r.loss_final.sum(1) < r.loss_init.sum(1))


def test_each_seed_has_its_own_data():
    pool, probe = rg.seed_data(rg.LAW_BY_NAME["gauss-away"], SMALL, 0)
    assert pool.shape == (3, 128, 64) and probe.shape == (3, 256, 64)
    for i, j in itertools.combinations(range(3), 2):
        assert not torch.equal(pool[i], pool[j])
    assert len({rg.networks.law_sample_seed(0, rg.LAW_BY_NAME["gauss-away"], s) for s in range(10)}) == 10


def test_local_dae_optimum_is_the_block_sum():
    w, _ = rg.local_linear_dae_optimum(0.4, 0.5)
    np.testing.assert_allclose(w, [2 ** -0.5, 2 ** -0.5], atol=1e-12)
    x = rg.sample_gaussian_chain(*rg.gaussian_chain_natural(0.7, 1.0, 0.0), 2000, 64, seed=3)
    for l in (1, 2):
        s = x.reshape(2000, -1, 2 ** l).sum(-1)
        c = np.mean([np.corrcoef(s[:, j], s[:, j + 1])[0, 1] for j in range(s.shape[1] - 1)])
        assert c == pytest.approx(rg.gaussian_chain_lag1_after_block_sums(0.7, 2)[l], abs=0.02)


def test_bad_inputs_rejected():
    with pytest.raises(ValueError, match="n_sites must be a multiple"):
        rg.HierarchySpec(48, 5, "shared", "tanh", "denoise")
    with pytest.raises(ValueError, match="architecture"):
        rg.HierarchySpec(64, 2, "dense", "tanh", "denoise")
    with pytest.raises(ValueError, match="objective"):
        rg.train_hierarchy("ising-away", "pca", "shared", SMALL)
    with pytest.raises(ValueError, match="undefined on i.i.d."):
        rg.train_hierarchy("gamma-iid", "rsmi", "shared", SMALL)
    with pytest.raises(ValueError, match="law_name"):
        rg.train_hierarchy("potts", "rsmi", "shared", SMALL)
    with pytest.raises(ValueError, match="K must be"):
        rg.rsmi_ising_optimum(-1.0)
    with pytest.raises(ValueError, match="brute force"):
        rg.rsmi_information_brute_force((1, 1, -1, -1), 0.5, 4, 4)
