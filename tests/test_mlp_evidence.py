"""Protocol-v3 measurements (rgnb.mlp.paired) and rows (rgnb.mlp.evidence) on tiny sweeps of two shapes."""

import dataclasses

import numpy as np
import pytest

from rgnb.mlp import evidence, paired, registry, sweeps, train

BASE = sweeps.SweepConfig(vocab_size=8, seq_len=8, xis=(1.0, 3.0, 7.0), depths=(4,), seeds=(0, 1, 2), width=8,
                          channel_mult=2, steps=30, warmup=3, batch_size=16, data_chunk=10, log_every=5, n_probe=48,
                          n_eval=64)


def _pair(cfg, d):
    return (train.run_sweep(cfg, "cpu", cache_dir=d, progress=False),
            train.run_sweep(dataclasses.replace(cfg, kind="shuffled", xis=(1.0,)), "cpu", cache_dir=d, progress=False))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    d = tmp_path_factory.mktemp("cache")
    main = dict(zip(("potts", "shuffled"), _pair(BASE, d)))
    v4 = dataclasses.replace(BASE, vocab_size=4, xis=(1.0, 7.0))
    scan = dict(zip(("potts-L8V4", "shuffled-L8V4"), _pair(v4, d)))
    return main, scan, d


def test_every_arm_is_measured_on_the_seed_s_own_probes(shapes):
    """The shuffled network of seed s at initialisation has the chain network's weights: measured on the same
    probes it must give the chain-init arm exactly; another seed's probes give other values."""
    main, _, d = shapes
    m = paired.measure_shape(main["potts"], main["shuffled"])
    assert m.values["chain-trained"]["erank_ln"].shape == (3, 3, 5)
    assert m.values["shuffled-trained"]["drift"].shape == (3, 3, 4)
    chain, shuffled = main["potts"], main["shuffled"]
    for s in (0, 2):
        probe = paired.probe_set(chain, 7.0, s)
        j = shuffled.select(seed=s)[0]
        same = paired._measure(shuffled, j, "init", probe)
        np.testing.assert_allclose(same["erank_ln"], m.get("chain-init", "erank_ln", 7.0)[m.seeds.index(s)], rtol=1e-9)
    other = paired._measure(shuffled, shuffled.select(seed=0)[0], "init", paired.probe_set(chain, 7.0, 1))
    assert not np.allclose(other["erank_ln"], m.get("chain-init", "erank_ln", 7.0)[0])
    assert not np.array_equal(paired.probe_set(chain, 1.0, 0)[0], paired.probe_set(chain, 1.0, 1)[0])


def test_pairs_refuse_a_mismatched_null(shapes):
    main, scan, _ = shapes
    with pytest.raises(ValueError, match="vocab_size"):
        paired.check_pair(main["potts"], scan["shuffled-L8V4"])
    with pytest.raises(ValueError, match="chain sweep, shuffled sweep"):
        paired.check_pair(main["shuffled"], main["potts"])


def test_protocol_v3_rows_one_per_claim_with_shapes_as_subrows(shapes):
    main, scan, d = shapes
    measured, pairs, main_shape = evidence.measure_all(main, scan, cache_dir=d)
    assert main_shape == sweeps.ScanShape(4, 8) and set(measured) == {sweeps.ScanShape(4, 8), sweeps.ScanShape(4, 4)}
    again, _, _ = evidence.measure_all(main, scan, cache_dir=d)  # from the cache: identical
    for s in measured:
        for arm in paired.ARMS:
            np.testing.assert_array_equal(again[s].values[arm]["drift"], measured[s].values[arm]["drift"])
    rows = evidence.protocol_v3_rows(measured, pairs, main_shape, "smoke")
    assert [r.id for r in rows] == [s.id for s in registry.PROTOCOL_V3]
    by = {r.id: r for r in rows}
    # pooled rows: 2 shapes x 3 seeds; per-shape rows: the other shape as a sub-row
    assert "2 shapes pooled" in by["P1-ii-present-v3"].configuration
    assert len(by["P1-ii-present-v3"].subrows) == 2 and len(by["P1-i-monotone-v3"].subrows) == 1
    # the selective contrast is the difference of the present and absent contrasts, seed by seed
    m = measured[main_shape]
    np.testing.assert_allclose(evidence.selectivity(m), evidence.collapse_contrasts(m, 1.0)["shuffled chain"]
                               - evidence.collapse_contrasts(m, 7.0)["shuffled chain"])
    assert evidence.dose_slopes(m).shape == (3,)
    assert "V = 4, 8 pooled" in by["ours-bulk-tracks-vocab"].configuration
