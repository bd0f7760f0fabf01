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
    main["ring"] = train.run_sweep(dataclasses.replace(BASE, kind="ring"), "cpu", cache_dir=d, progress=False)
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


def test_protocol_v3_rows_one_per_claim_with_shapes_and_variants_as_subrows(shapes):
    main, scan, d = shapes
    ms = evidence.measure_all(main, scan, cache_dir=d)
    main_shape = ms.main
    assert main_shape == sweeps.ScanShape(4, 8) and set(ms.shapes) == {sweeps.ScanShape(4, 8), sweeps.ScanShape(4, 4)}
    assert [v.family for v in ms.variants] == ["ring"]  # the isolated-masking family is not among these sweeps
    again = evidence.measure_all(main, scan, cache_dir=d)  # from the cache: identical
    for s in ms.shapes:
        for arm in paired.ARMS:
            np.testing.assert_array_equal(again.measured[s].values[arm]["drift"], ms.measured[s].values[arm]["drift"])
    rows = evidence.protocol_v3_rows(ms, "smoke")
    assert [r.id for r in rows] == [s.id for s in registry.PROTOCOL_V3]
    by = {r.id: r for r in rows}
    # pooled rows: 2 shapes x 3 seeds decide; sub-rows: each shape and the ring chain
    assert "2 shapes pooled" in by["P1-ii-present-v3"].configuration and by["P1-ii-present-v3"].n == 6
    assert [s["configuration"] for s in by["P1-ii-present-v3"].subrows] == [
        "potts, xi = 1, depth 4, V = 4", "potts, xi = 1, depth 4, V = 8", "ring, xi = 1, depth 4, V = 8"]
    # per-shape rows: the main shape decides; the other shape and the ring chain are sub-rows
    assert by["P1-i-monotone-v3"].configuration == "potts, xi = 1, depth 4, V = 8"
    assert [s["configuration"] for s in by["P1-i-monotone-v3"].subrows] == [
        "potts, xi = 1, depth 4, V = 4", "ring, xi = 1, depth 4, V = 8"]
    # the dose response: the main shape's xi grid, the ring's grid a sub-row
    assert [s["configuration"] for s in by["ours-ii-dose-response"].subrows] == ["ring, xi in {1, 3, 7}, depth 4, V = 8"]
    # the selective contrast is the difference of the present and absent contrasts, seed by seed
    m = ms.measured[main_shape]
    np.testing.assert_allclose(evidence.selectivity(m), evidence.collapse_contrasts(m, 1.0)["shuffled chain"]
                               - evidence.collapse_contrasts(m, 7.0)["shuffled chain"])
    assert evidence.dose_slopes(m).shape == (3,)
    assert "V = 4, 8, each V its own contrast" in by["ours-bulk-tracks-vocab"].configuration
    # the variant is measured on its own probes (the ring chain's), its shuffled arm on the same ones
    ring = ms.variants[0].measurements
    assert ring.xis == (1.0, 3.0, 7.0)
    np.testing.assert_array_equal(paired.probe_set(main["ring"], 1.0, 0)[0],
                                  paired.probe_set(ms.variants[0].chain, 1.0, 0)[0])
    assert not np.array_equal(ring.get("shuffled-trained", "erank_ln", 1.0), m.get("shuffled-trained", "erank_ln", 1.0))
    assert by["P1-iii-plateau-v3"].effects["initialisation"]["scale"] == "log-ratio"


def _shallow(m: paired.ShapeMeasurements, depth: int) -> paired.ShapeMeasurements:
    """The first ``depth`` blocks of ``m``'s measurements as a shape of that depth (profiles l = 0..depth)."""
    values = {a: {q: (v[..., :depth] if q == "drift" else v[..., :depth + 1]) for q, v in qs.items()}
              for a, qs in m.values.items()}
    return dataclasses.replace(m, shape=sweeps.ScanShape(depth, m.shape.vocab_size), values=values)


def test_drift_rows_leave_out_a_shape_too_shallow_for_a_plateau(shapes):
    main, scan, d = shapes
    ms = evidence.measure_all(main, scan, cache_dir=d)
    shallow = sweeps.ScanShape(2, 8)
    c = ms.shapes[ms.main]
    ms.shapes[shallow] = dataclasses.replace(c, measurements=_shallow(c.measurements, 2))
    by = {r.id: r for r in evidence.protocol_v3_rows(ms, "smoke")}
    assert len(by["P1-i-monotone-v3"].subrows) == 3  # the depth-2 shape is a sub-row of (i) ...
    for cid in ("P1-iii-concentrated-v3", "ours-iii-concentration-by-chain", "P1-iii-plateau-v3"):
        assert len(by[cid].subrows) == 2, cid  # ... but not of the drift rows
        assert all("depth 2" not in s["configuration"] for s in by[cid].subrows)
    assert "3 shapes pooled" in by["P1-ii-present-v3"].configuration


def test_the_bulk_row_has_one_contrast_per_vocabulary_size(shapes):
    main, scan, d = shapes
    ms = evidence.measure_all(main, scan, cache_dir=d)
    row = {r.id: r for r in evidence.protocol_v3_rows(ms, "smoke")}["ours-bulk-tracks-vocab"]
    assert row.n == 2 * 2 * 3 and row.n_unit == "networks"  # 2 shapes x xi 1, 7 x 3 seeds
    for c in ms.ordered():
        expect = evidence._bulk(c.measurements)[1]
        key = f"{evidence.READOUT}, V = {c.shape.vocab_size}"
        assert row.effects[key]["estimate"] == pytest.approx(expect.mean(), rel=2e-3)  # 3 digits
    assert [s["configuration"].split(", ")[-1] for s in row.subrows] == ["V = 4", "V = 8"]


def test_opposite_deviations_at_two_vocabulary_sizes_do_not_cancel(shapes):
    """Bulk 3 above V - 1 at one V and 3 below at the other: a pooled mean is near 0, but the claim ('at every
    V') fails, and so must the row (premise forced, since smoke networks do not pass the gate)."""
    from rgnb.claims import NOT_REPRODUCED, decide

    main, scan, d = shapes
    ms = evidence.measure_all(main, scan, cache_dir=d)
    configs = []
    for c, shift in zip(ms.ordered(), (3.0, -3.0)):
        m = c.measurements
        V = m.shape.vocab_size
        values = {a: dict(q) for a, q in m.values.items()}
        values["chain-trained"]["pc90_ln"] = np.full_like(m.values["chain-trained"]["pc90_ln"], V - 1 + shift)
        configs.append(dataclasses.replace(c, measurements=dataclasses.replace(m, values=values)))
    ev = dataclasses.replace(evidence.bulk_by_vocabulary(configs, "test"), premise_met=True)
    assert sorted(e.estimate for e in ev.contrasts.values()) == pytest.approx([-3.0, 3.0])
    assert ev.statistic.estimate == pytest.approx(0.0, abs=1e-12)
    assert decide(registry.BY_ID["ours-bulk-tracks-vocab"], ev).verdict == NOT_REPRODUCED
    with pytest.raises(ValueError, match="one configuration per vocabulary size"):
        evidence.bulk_by_vocabulary(configs[:1] * 2, "test")


def test_chapter_rows_partition_the_rows_by_chapter(shapes):
    main, scan, d = shapes
    rows = evidence.protocol_v3_rows(evidence.measure_all(main, scan, cache_dir=d), "smoke")
    parts = [evidence.chapter_rows(rows, c) for c in ("rank_collapse", "selectivity", "kernel_drift")]
    assert sorted(r.id for p in parts for r in p) == sorted(r.id for r in rows)
    assert {r.id for r in parts[0]} == {"P1-i-monotone-v3", "ours-bulk-tracks-vocab"}
    with pytest.raises(ValueError, match="chapter must be one of"):
        evidence.chapter_rows(rows, "training")


def test_robustness_rows_test_each_claim_on_the_reading_s_own_pair(shapes):
    """The robustness rows (registry.ROBUSTNESS_V3) are the single-configuration tests of the main claims on the
    mixer without LayerNorm: the same build as the main reading's main-shape rows, on the reading's own networks."""
    main, scan, d = shapes
    nolayernorm = dataclasses.replace(BASE, xis=(1.0, 7.0), architecture=sweeps.ROBUSTNESS_READING)
    robust = dict(zip(("potts", "shuffled"), _pair(nolayernorm, d)))
    config = evidence.measure_reading(robust, evidence.ROBUST_FAMILY, cache_dir=d)
    assert config.family == evidence.ROBUST_FAMILY
    rows = evidence.robustness_rows(config, "smoke")
    assert [r.id for r in rows] == [s.id for s in registry.ROBUSTNESS_V3]
    assert all(not r.subrows and r.configuration.startswith("potts, no LayerNorm, xi = ") for r in rows)
    by = {r.id: r for r in rows}
    assert "xi = 7" in by["robust-P1-ii-absent-v3"].configuration
    assert by["robust-P1-iii-plateau-v3"].effects["initialisation"]["scale"] == "log-ratio"
    present = evidence.collapse_contrasts(config.measurements, 1.0)["shuffled chain"]
    assert by["robust-P1-ii-present-v3"].effects["shuffled chain"]["estimate"] == pytest.approx(present.mean(), rel=2e-3)
    main_config = evidence.measure_reading(main, cache_dir=d)
    ms = evidence.measure_all(main, scan, cache_dir=d)
    np.testing.assert_array_equal(main_config.measurements.values["chain-trained"]["drift"],
                                  ms.shapes[ms.main].measurements.values["chain-trained"]["drift"])
    mains = evidence.main_shape_rows(main_config, "smoke")
    through_robust = evidence.robustness_rows(main_config, "smoke")
    for a, b in zip(through_robust, mains):
        assert b.id == a.id.removeprefix("robust-") and a.effects == b.effects
    assert by["robust-P1-ii-present-v3"].effects != mains[1].effects  # the reading's networks, not the mixer's
    with pytest.raises(ValueError, match="'shuffled' sweep"):
        evidence.measure_reading({"potts": robust["potts"]})
