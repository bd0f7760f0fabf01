"""Real-space RG on exponential-family data and the exponential-family RG theorem, tested on local
coarse-graining hierarchies.

Modules, one concept each (imports only go down this list): :mod:`~rgnb.rg.config` (families, laws,
objectives, sizes, fixed points), :mod:`~rgnb.rg.estimators` (jackknife, gauge-invariant layer
parameters), :mod:`~rgnb.rg.ising`, :mod:`~rgnb.rg.gaussian_chain`, :mod:`~rgnb.rg.block_sum` (exact maps,
samplers, estimators, exact optima), :mod:`~rgnb.rg.theory` (exact images in the layer parameter, the depth
rule, the noise floor, the layer-map estimator, the certified optimum, the site-shuffle null),
:mod:`~rgnb.rg.networks` (hierarchies and their training), :mod:`~rgnb.rg.registry` (margins and registered
claims), :mod:`~rgnb.rg.chapter` (map checks, the feature-layer and layer-map studies, tables, benchmark),
:mod:`~rgnb.rg.evidence` (the evidence of every registered claim). What the chapter and the tests use is
re-exported here.
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
from rgnb.rg.networks import (HierarchyResult, HierarchySpec, decimation_hierarchy, fit_hierarchies, forward,
                              gaussian_mi, gradient_norm, init_hierarchy, layer_forward, local_losses, measure,
                              sample_law, seed_data, train_hierarchy)
from rgnb.rg.registry import (CHAPTER, DELTA, EIGEN_TOL, EIG_MARGIN, ENUM_TOL, GAP_BOUND, GRAD_BOUND, MAP_PRIMARY, PRIMARY,
                              REGISTRY, SCHEME_MARGIN, Z_MAX, configuration_name)
from rgnb.rg.theory import (EXACT_EIGENVALUES, EXACT_MAPS, IID_DEPTH, LayerMap, block_sum_prediction,
                            denoise_optimum_loss, denoise_optimum_per_layer, exact_layer_map, feature_depth,
                            fit_layer_map, natural_coupling, rank_noise_floor, rg_prediction, shuffle_sites)
from rgnb.rg.chapter import (MapCheck, MapResult, Study, benchmark_main, check_block_sum, check_gaussian_decimation,
                             check_ising_decimation, configurations, law_sizes, layer_table, layer_table_markdown,
                             local_optimum_prediction, run_map_study, run_study, u_eigenvalue_error)
from rgnb.rg.evidence import (block_sum_evidence, build_claims, empty_evidence, fc_evidence, feature_evidence,
                              hierarchy_gap, map_premise, map_statistics, noise_floor_check, premise, sanity_evidence, step_evidence)

__all__ = ["ACTIVATION", "ARCHITECTURES", "BLOCK_CONFIGS", "CHAPTER", "COARSE_FUNCTIONS", "DELTA", "EIGEN_TOL",
           "EIG_MARGIN", "ENUM_TOL", "EXACT_EIGENVALUES", "EXACT_MAPS", "FAMILIES_CHAIN", "FAMILIES_IID",
           "FIXED_POINT", "FULL", "Fit", "GAP_BOUND", "GRAD_BOUND", "HierarchyResult", "HierarchySpec", "IID_DEPTH",
           "InputLaw", "LAWS", "LAW_BY_NAME", "LayerMap", "LinearOptimum", "MAP_PRIMARY", "MapCheck", "MapResult",
           "OBJECTIVES", "PRIMARY", "REFERENCE", "REGISTRY", "RGSizes", "RSMIOptimum", "SCHEME_MARGIN", "SIZES",
           "SMOKE", "Study", "U_FIXED_POINTS", "Z_MAX", "benchmark_main", "block_sum", "block_sum_evidence",
           "block_sum_flow", "block_sum_map", "block_sum_prediction", "build_claims", "check_block_sum",
           "check_gaussian_chain", "check_gaussian_decimation", "check_ising_decimation", "check_u",
           "coarse_rank_correlation", "configuration_name", "configurations", "correlation_length",
           "decimation_hierarchy", "denoise_optimum_loss", "denoise_optimum_per_layer", "empty_evidence",
           "exact_layer_map", "fc_dae_gauge_scan", "fc_evidence", "feature_depth", "feature_evidence",
           "feature_u_exact", "fit_gaussian_chain", "fit_hierarchies", "fit_iid", "fit_ising_chain", "fit_layer_map",
           "forward", "gaussian_chain_ar1", "gaussian_chain_covariance", "gaussian_chain_decimation",
           "gaussian_chain_flow", "gaussian_chain_lag1_after_block_sums", "gaussian_chain_lag1_after_decimation",
           "gaussian_chain_natural", "gaussian_mi", "gaussian_neighbour_mi", "gaussian_spearman", "gradient_norm",
           "hierarchy_gap", "init_hierarchy", "ising_correlation_length", "ising_decimation", "ising_flow",
           "ising_magnetisation", "jackknife_additive", "jackknife_groups", "lag1_rank_correlation", "law_sizes",
           "layer_abs_skewness", "layer_forward", "layer_parameter", "layer_rank_correlation", "layer_table",
           "layer_table_markdown", "linear_dae_loss", "linear_dae_optimum", "local_linear_dae_optimum",
           "local_losses", "local_optimum_prediction", "map_premise", "map_statistics", "measure", "midranks", "natural_coupling",
           "noise_floor_check", "phi_to_u", "population_rank_correlation", "premise", "rank_noise_floor",
           "rg_prediction", "rsmi_information", "rsmi_information_brute_force", "rsmi_ising_optimum",
           "rsmi_linear_optimum", "run_map_study", "run_study", "sample_gaussian_chain", "sample_iid",
           "sample_ising_chain", "sample_law", "sanity_evidence", "seed_data", "shuffle_sites", "sizes",
           "spearman_to_pearson_gaussian", "standardised_cumulant", "step_evidence", "train_hierarchy",
           "u_eigenvalue_error", "u_flow", "u_map", "u_map_derivative", "u_to_phi"]
