"""Closures of the kernel recursion at order 1/n: G-only (the paper's) and sigma-kernel (ours).

Each closure comes twice: as continuous-depth equations (the EFT) and as the exact recursion of the
same approximation at the simulated depth step eps, which is what a network with L = T / eps layers
should be compared with when the closure's own error is the question.
"""

from rgnb.eft.closures.g_only import (ClosureSolution, check_t_eval, g_only_discrete, k0_discrete, solve_g_only,
                                      solve_k0)
from rgnb.eft.closures.sigma import sigma_closure_discrete, solve_sigma_closure

__all__ = ["ClosureSolution", "check_t_eval", "g_only_discrete", "k0_discrete", "solve_g_only", "solve_k0",
           "sigma_closure_discrete", "solve_sigma_closure"]
