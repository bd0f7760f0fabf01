"""Real-space RG on exponential-family data and the exponential-family RG theorem, tested on local
coarse-graining hierarchies.

Modules, one concept each (imports only go down this list): :mod:`~rgnb.rg.config` (families, laws,
objectives, sizes, fixed points), :mod:`~rgnb.rg.estimators` (jackknife, gauge-invariant layer
parameters), :mod:`~rgnb.rg.ising`, :mod:`~rgnb.rg.gaussian_chain`, :mod:`~rgnb.rg.block_sum` (exact maps,
samplers, estimators, exact optima), :mod:`~rgnb.rg.networks` (hierarchies and their training),
:mod:`~rgnb.rg.registry` (margins and registered claims), :mod:`~rgnb.rg.chapter` (map checks, study,
evidence, benchmark). What the chapter and the tests use is re-exported here.
"""

from rgnb.rg.config import (ACTIVATION, ARCHITECTURES, FAMILIES_CHAIN, FAMILIES_IID, FIXED_POINT, FULL, LAW_BY_NAME,
                            LAWS, OBJECTIVES, REFERENCE, SIZES, SMOKE, InputLaw, RGSizes, sizes)
from rgnb.rg.estimators import (Fit, correlation_length, gaussian_neighbour_mi, gaussian_spearman, jackknife_additive,
                                jackknife_groups, lag1_rank_correlation, layer_abs_skewness, layer_parameter,
                                layer_rank_correlation, midranks, spearman_to_pearson_gaussian)
from rgnb.rg.ising import (BLOCK_CONFIGS, COARSE_FUNCTIONS, RSMIOptimum, coarse_rank_correlation, fit_ising_chain,
                           ising_correlation_length, ising_decimation, ising_flow, ising_magnetisation,
                           population_rank_correlation, rsmi_information, rsmi_information_brute_force,
                           rsmi_ising_optimum, sample_ising_chain)
from rgnb.rg.gaussian_chain import (U_FIXED_POINTS, LinearOptimum, check_gaussian_chain, check_u, fc_dae_gauge_scan,
                                    feature_u_exact, fit_gaussian_chain, gaussian_chain_ar1, gaussian_chain_covariance,
                                    gaussian_chain_decimation, gaussian_chain_flow, gaussian_chain_lag1_after_block_sums,
                                    gaussian_chain_lag1_after_decimation, gaussian_chain_natural, linear_dae_loss,
                                    linear_dae_optimum, local_linear_dae_optimum, phi_to_u, rsmi_linear_optimum,
                                    sample_gaussian_chain, u_flow, u_map, u_map_derivative, u_to_phi)
from rgnb.rg.block_sum import (block_sum, block_sum_flow, block_sum_map, fit_iid, sample_iid, standardised_cumulant)
from rgnb.rg.networks import (HierarchyResult, HierarchySpec, decimation_hierarchy, forward, gaussian_mi,
                              init_hierarchy, layer_forward, local_losses, measure, sample_law, seed_data,
                              train_hierarchy)
from rgnb.rg.registry import (CHAPTER, DELTA, EIGEN_TOL, ENUM_TOL, PRIMARY, REGISTRY, Z_MAX, configuration_name)
from rgnb.rg.chapter import (MapCheck, Study, benchmark_main, build_claims, check_block_sum,
                             check_gaussian_decimation, check_ising_decimation, configurations, layer_table,
                             layer_table_markdown, local_evidence, local_optimum_prediction,
                             permutation_check, premise, rg_prediction, run_study, sanity_evidence, t_evidence,
                             tk_evidence, tk_statistic, u_eigenvalue_error)

__all__ = ["ACTIVATION", "ARCHITECTURES", "BLOCK_CONFIGS", "CHAPTER", "COARSE_FUNCTIONS", "DELTA", "EIGEN_TOL",
           "ENUM_TOL", "FAMILIES_CHAIN", "FAMILIES_IID", "FIXED_POINT", "FULL", "Fit", "HierarchyResult",
           "HierarchySpec", "InputLaw", "LAWS", "LAW_BY_NAME", "LinearOptimum", "MapCheck", "OBJECTIVES",
           "PRIMARY", "REFERENCE", "REGISTRY", "RGSizes", "RSMIOptimum", "SIZES", "SMOKE", "Study",
           "U_FIXED_POINTS", "Z_MAX", "benchmark_main", "block_sum", "block_sum_flow", "block_sum_map",
           "build_claims", "check_block_sum", "check_gaussian_chain", "check_gaussian_decimation",
           "check_ising_decimation", "check_u", "coarse_rank_correlation", "configuration_name",
           "configurations", "correlation_length", "decimation_hierarchy", "fc_dae_gauge_scan",
           "feature_u_exact", "fit_gaussian_chain", "fit_iid", "fit_ising_chain", "forward",
           "gaussian_chain_ar1", "gaussian_chain_covariance", "gaussian_chain_decimation",
           "gaussian_chain_flow", "gaussian_chain_lag1_after_block_sums",
           "gaussian_chain_lag1_after_decimation", "gaussian_chain_natural", "gaussian_mi",
           "gaussian_neighbour_mi", "gaussian_spearman", "init_hierarchy", "ising_correlation_length",
           "ising_decimation", "ising_flow", "ising_magnetisation", "jackknife_additive", "jackknife_groups",
           "lag1_rank_correlation", "layer_abs_skewness", "layer_forward", "layer_parameter",
           "layer_rank_correlation", "layer_table", "layer_table_markdown", "linear_dae_loss",
           "linear_dae_optimum", "local_evidence", "local_linear_dae_optimum", "local_losses",
           "local_optimum_prediction", "measure", "midranks", "permutation_check",
           "phi_to_u", "population_rank_correlation", "premise", "rg_prediction", "rsmi_information",
           "rsmi_information_brute_force", "rsmi_ising_optimum", "rsmi_linear_optimum", "run_study",
           "sample_gaussian_chain", "sample_iid", "sample_ising_chain", "sample_law", "sanity_evidence",
           "seed_data", "sizes", "spearman_to_pearson_gaussian", "standardised_cumulant", "t_evidence",
           "tk_evidence", "tk_statistic", "train_hierarchy", "u_eigenvalue_error", "u_flow",
           "u_map", "u_map_derivative", "u_to_phi"]
