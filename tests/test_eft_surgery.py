"""The transport surgery (rgnb.eft.surgery): the exact one-layer covariance identity, its closed form for a
linear activation, and the attribution of the G-only residual."""

import numpy as np
import pytest

from rgnb import eft
from rgnb.eft import surgery


@pytest.fixture(scope="module")
def relu_and_linear():
    X = eft.default_inputs()
    K = eft.input_kernel(X)
    out = {}
    for act in ("relu", "linear"):
        mom = eft.kernel_moments(X, 64, 16, 2.0, 1.0, act, 2000, seed=11, n_groups=10)
        out[act] = (mom, surgery.surgery_residuals(mom, K, 1.0, act))
    return K, out


def _relative(res, ref):
    """Mean over batches, relative norm per layer, and the noise floor of that mean."""
    nt = res.shape[1]
    mu = res.mean(0).reshape(nt, -1)
    se = (res.std(0, ddof=1) / np.sqrt(res.shape[0])).reshape(nt, -1)
    den = np.linalg.norm(ref.reshape(nt, -1), axis=1)
    return np.linalg.norm(mu, axis=1) / den, np.linalg.norm(se, axis=1) / den


def test_linear_activation_transport_is_the_covariance_itself(relu_and_linear):
    """phi(h) = h: S = G network by network, so n Cov(S, G) = n Cov(G) = J V with J = 1 (the G-only transport is
    exact in closed form), and the transport surgery changes nothing: its residual equals the G-only one."""
    K, out = relu_and_linear
    mom, res = out["linear"]
    p = eft.n_packed(3)
    cov = mom.group_cov
    np.testing.assert_allclose(cov[..., p:2 * p, :p], cov[..., :p, :p], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(eft.DF(K, "linear"), np.eye(p), atol=1e-10)
    Vg = eft.g_only_discrete(K, 16, 2.0, 1.0, "linear").V4
    r_t, floor_t = _relative(res["transport"], Vg)
    r_g, floor_g = _relative(res["gonly"], Vg)
    r_s, floor_s = _relative(res["source"], Vg)
    # all within noise (the closure is exact up to O(1/n) covariance terms of the source); the source surgery
    # propagates its own V with J = 1, which is the exact transport here
    assert np.all(r_g <= 3 * floor_g + 0.02) and np.all(r_t <= 3 * floor_t + 0.02)
    assert np.all(r_s <= 3 * floor_s + 0.02)
    assert r_g[-1] > 0 and np.abs(Vg[-1]).max() > 2 * np.abs(Vg[0]).max()  # V grows: a transport to get right


def test_the_identity_leaves_only_noise_and_the_transport_carries_relu_s_residual(relu_and_linear):
    K, out = relu_and_linear
    _, res = out["relu"]
    Vg = eft.g_only_discrete(K, 16, 2.0, 1.0, "relu").V4
    r_both, floor_both = _relative(res["both"], Vg)
    assert np.all(r_both <= 3 * floor_both + 1e-12)
    r_g, floor_g = _relative(res["gonly"], Vg)
    r_t, floor_t = _relative(res["transport"], Vg)
    r_s, _ = _relative(res["source"], Vg)
    assert r_g[-1] > 5 * floor_g[-1]                    # a resolved G-only residual at t = T
    assert r_t[-1] < 0.3 * r_g[-1]                      # the transport surgery removes most of it
    assert r_s[-1] > 0.7 * r_g[-1]                      # the source surgery does not
    # V_MC is symmetric, and so is every surgery's recursion (the transport enters as T + T^T)
    for key, r in res.items():
        np.testing.assert_allclose(r, np.swapaxes(r, -1, -2), atol=1e-12, err_msg=key)
    # at t = 0 every surgery starts from the exact Wishart value: the residual is the sampling error of V
    assert np.all(res["transport"][:, 0] == res["source"][:, 0])


def test_expected_four_term_adds_the_covariance_terms():
    """E[Q(A, B)] of sampled random kernels equals the formula from their means and covariance."""
    rng = np.random.default_rng(4)
    k, m = 2, 200_000
    base = rng.normal(size=(m, 3))
    A = eft.unpack(np.array([1.0, 0.3, 1.2]) + 0.3 * base, k)
    B = eft.unpack(np.array([0.8, -0.2, 0.9]) + 0.2 * base + 0.1 * rng.normal(size=(m, 3)), k)
    direct = eft.four_term(A, B).mean(0)
    pa, pb = eft.pack(A), eft.pack(B)
    cov = (pa - pa.mean(0)).T @ (pb - pb.mean(0)) / m  # the sample identity holds with the 1/m covariance
    formula = surgery.expected_four_term(A.mean(0), B.mean(0), cov)
    np.testing.assert_allclose(formula, direct, rtol=1e-10, atol=1e-12)
    covaa = (pa - pa.mean(0)).T @ (pa - pa.mean(0)) / m
    np.testing.assert_allclose(surgery.expected_four_term(A.mean(0), None, covaa, wishart_form=True),
                               eft.wishart(A).mean(0), rtol=1e-10, atol=1e-12)
