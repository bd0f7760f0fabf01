"""Kernel EFT of pre-activation ResNets at initialization (chapter ``kernel_eft``).

One module per concept: :mod:`~rgnb.eft.kernels` (packing, inputs), :mod:`~rgnb.eft.gaussian`
(F and its derivatives), :mod:`~rgnb.eft.sampler` (the exact sampler, Monte Carlo moments, the
benchmark), :mod:`~rgnb.eft.closures` (G-only and sigma-kernel closures, ODE and discrete),
:mod:`~rgnb.eft.moments` (residuals, extrapolation, the window) and :mod:`~rgnb.eft.chapter`
(sizes, the studies and the claims of the chapter). The names below are re-exported for the
chapter and the tests.
"""

from rgnb.eft.closures import (ClosureSolution, g_only_discrete, k0_discrete, sigma_closure_discrete,
                               solve_g_only, solve_k0, solve_sigma_closure)
from rgnb.eft.gaussian import (ACTIVATIONS, D2F, DF, TANH_F_ACCURACY, Activation, erf_F, gauss_hermite,
                               gaussian_expectation_2d, gaussian_F, get_activation, hessian_contraction, relu_F,
                               tanh_F, trapezoid_expectation_2d)
from rgnb.eft.kernels import (check_inputs, check_kernel, default_inputs, four_term, input_kernel, n_packed, pack,
                              pair_labels, single_input, two_inputs, unpack, wishart)
from rgnb.eft.moments import (Extrapolation, extrapolate_to_zero, measured_k1, relative_residual, residual_in_se,
                              validity_window, window_bounds)
from rgnb.eft.sampler import (KernelMoments, TwoSampleResult, benchmark, benchmark_main, holm_min_p, kernel_moments,
                              simulate_kernels, throughput, two_sample_tests)

__all__ = [
    "ACTIVATIONS", "Activation", "ClosureSolution", "D2F", "DF", "Extrapolation", "KernelMoments", "TANH_F_ACCURACY",
    "TwoSampleResult", "benchmark", "benchmark_main", "check_inputs", "check_kernel", "default_inputs", "erf_F",
    "extrapolate_to_zero", "four_term", "g_only_discrete", "gauss_hermite", "gaussian_F", "gaussian_expectation_2d",
    "get_activation", "hessian_contraction", "holm_min_p", "input_kernel", "k0_discrete", "kernel_moments",
    "measured_k1", "n_packed", "pack", "pair_labels", "relative_residual", "relu_F", "residual_in_se",
    "sigma_closure_discrete", "simulate_kernels", "single_input", "solve_g_only", "solve_k0", "solve_sigma_closure",
    "tanh_F", "throughput", "trapezoid_expectation_2d", "two_inputs", "two_sample_tests", "unpack",
    "validity_window", "window_bounds", "wishart"
]
