"""The closures' exact discrete recursions against Monte Carlo at small depth, their continuum limits
against the ODEs, and the self-interaction term on single-input ReLU."""

import numpy as np
import pytest

from rgnb import eft

X2 = eft.two_inputs()
K2 = eft.input_kernel(X2)


def test_g_only_recursion_converges_to_the_ode():
    t = np.linspace(0, 2.0, 9)
    ode = eft.solve_g_only(K2, 2.0, 1.0, "relu", t)
    fine, half = (eft.g_only_discrete(K2, L, 2.0, 1.0, "relu") for L in (128, 64))
    rich_V = 2 * fine.V4[::16] - half.V4[::8]
    rich_K1 = 2 * fine.K1[::16] - half.K1[::8]
    assert np.abs(rich_V - ode.V4).max() < 1e-3 * np.abs(ode.V4).max()
    assert np.abs(rich_K1 - ode.K1).max() < 3e-3 * np.abs(ode.K1).max()
    # one step of the recursion is Euler plus the two eps^2 terms, by hand
    one = eft.g_only_discrete(K2, 1, 0.5, 1.0, "relu")
    F, J = eft.relu_F(K2), eft.DF(K2, "relu")
    M = np.eye(3) + 0.5 * J
    want = M @ eft.wishart(K2) @ M.T + 0.5 * eft.four_term(K2, F) + 0.25 * eft.wishart(F)
    np.testing.assert_allclose(one.V4[1], want, rtol=1e-12)


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_k0_exact_in_expectation_at_the_first_layer(act):
    """h^0 is exactly Gaussian, so E[G^1] = K0^1 = K_in + eps s^2 F(K_in) at every width."""
    mom = eft.kernel_moments(X2, 8, 1, 0.5, 1.3, act, 20_000, seed=4, n_groups=20)
    m, se = mom.mean("C")
    z = (m[1] - eft.pack(eft.k0_discrete(K2, 1, 0.5, 1.3, act)[1])) / se[1]
    assert np.abs(z).max() < 4.0
    # and the test has power: the K0 of another sigma_w is rejected
    z_wrong = (m[1] - eft.pack(eft.k0_discrete(K2, 1, 0.5, 1.2, act)[1])) / se[1]
    assert np.abs(z_wrong).max() > 10


def test_sigma_recursion_matches_monte_carlo_v4_and_k1_within_se():
    """At eps = 0.25, L = 4: n Cov(G) and n (E G - K0) of the networks against the sigma closure's
    recursion at the same eps (leading order; n = 128 keeps 1/n corrections inside the noise)."""
    L, T, n = 4, 1.0, 128
    mom = eft.kernel_moments(X2, n, L, T, 1.0, "tanh", 24_000, seed=6, n_groups=20)
    sig = eft.sigma_closure_discrete(K2, L, T, 1.0, "tanh", n_paths=200_000, seed=2)
    V, seV = mom.ncov("G", "G")
    z_v = eft.residual_in_se(V[1:], sig.V4[1:], seV[1:])
    assert z_v.max() < 2.5, z_v
    k1, sek1 = eft.measured_k1(mom, sig.K0)
    z_k = eft.residual_in_se(k1[1:], eft.pack(sig.K1[1:]), sek1[1:])
    assert z_k.max() < 2.5, z_k
    # the G-only recursion's K1 is rejected by the same data (its source is wrong from the first layer)
    g = eft.g_only_discrete(K2, L, T, 1.0, "tanh")
    assert eft.residual_in_se(k1[1:], eft.pack(g.K1[1:]), sek1[1:]).max() > 4


@pytest.mark.parametrize("width", [32, 64])
def test_self_interaction_single_input_relu(width):
    """One input, ReLU: F is linear, so every closure without the self-interaction predicts K1 = 0;
    the networks have n (E G - K0^eps) of several units at t = 4. The self-interaction term accounts for it."""
    X1 = eft.single_input()
    L, T = 8, 4.0
    mom = eft.kernel_moments(X1, width, L, T, 1.0, "relu", 60_000, seed=20 + width, n_groups=20)
    sig = eft.sigma_closure_discrete(np.array([[1.0]]), L, T, 1.0, "relu", n_paths=200_000, seed=3)
    k1, se = eft.measured_k1(mom, sig.K0)
    pred = eft.pack(sig.K1)
    assert abs(k1[-1, 0] - pred[-1, 0]) < 3 * np.hypot(se[-1, 0], sig.extra["K1_se"][-1, 0])
    assert k1[-1, 0] > 6 * se[-1, 0]  # K1 != 0 resolved: the closures without the term are rejected
    noself = eft.sigma_closure_discrete(np.array([[1.0]]), L, T, 1.0, "relu", n_paths=2_000, seed=3,
                                        self_interaction=False)
    np.testing.assert_allclose(noself.K1, 0.0, atol=1e-6)


@pytest.mark.parametrize("K", [np.array([[1.0]]), np.array([[1.0, 0.5], [0.5, 2.0]])], ids=["1-input", "2-inputs"])
def test_sigma_closure_k1_se_is_calibrated_over_path_seeds(K):
    """The stated K1 standard error matches the spread of K1 over independent path seeds (ReLU, t = 4):
    ratio in [0.8, 1.25] per packed entry at t = T (its sampling sd is ~0.08 with 80 seeds). The
    per-layer sum that dropped the covariances between layers gave ~0.2. V4_se stays calibrated."""
    k1, se, v4, v4_se = [], [], [], []
    for seed in range(80):
        sol = eft.sigma_closure_discrete(K, 8, 4.0, 1.0, "relu", n_paths=2_000, seed=seed)
        k1.append(eft.pack(sol.K1[-1]))
        se.append(sol.extra["K1_se"][-1])
        v4.append(sol.V4[-1])
        v4_se.append(sol.extra["V4_se"][-1])
    assert np.all(np.asarray(se)[:, :] > 0)
    ratio = np.mean(se, axis=0) / np.std(k1, axis=0, ddof=1)
    assert np.all((ratio > 0.8) & (ratio < 1.25)), ratio
    ratio_v4 = np.mean(v4_se, axis=0) / np.std(v4, axis=0, ddof=1)
    assert np.all((ratio_v4 > 0.75) & (ratio_v4 < 1.33)), ratio_v4
