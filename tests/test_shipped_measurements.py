"""Shipped P1 measurements (rgnb.mlp.shipped_measurements): written for shipped weights, read back instead of
measuring, checked by re-measuring one seed, refused when that seed is not reproduced."""

import dataclasses
import json

import numpy as np
import pytest

from rgnb.mlp import evidence, paired, shipped, sweeps, train
from rgnb.mlp import shipped_measurements as sm

BASE = sweeps.SweepConfig(vocab_size=8, seq_len=8, xis=(1.0, 7.0), depths=(4,), seeds=(0, 1, 2), width=8,
                          channel_mult=2, steps=30, warmup=3, batch_size=16, data_chunk=10, log_every=5, n_probe=48,
                          n_eval=64)
SHUFFLED = dataclasses.replace(BASE, kind="shuffled", xis=(1.0,))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    return {"potts": train.run_sweep(BASE, "cpu", cache_dir=d, progress=False),
            "shuffled": train.run_sweep(SHUFFLED, "cpu", cache_dir=d, progress=False)}


@pytest.fixture()
def shipped_main(trained, tmp_path, monkeypatch):
    monkeypatch.setitem(sweeps.SWEEPS, "reference", {"potts": BASE, "shuffled": SHUFFLED})
    directory = shipped.export_shipped(trained, tmp_path / "ship", "reference")
    return shipped.load_shipped("reference", directory, cache_dir=tmp_path / "c"), directory


def _count_measurements(monkeypatch) -> list:
    calls = []
    real = paired.measure_shape

    def counting(chain, shuffled, seeds=None):
        calls.append(seeds)
        return real(chain, shuffled, seeds)
    monkeypatch.setattr(paired, "measure_shape", counting)
    return calls


def test_shipped_measurements_are_read_back_and_checked_once(shipped_main, tmp_path, monkeypatch):
    main, directory = shipped_main
    calls = _count_measurements(monkeypatch)
    first = evidence.measure_all(main, {}, cache_dir=tmp_path / "c1", shipped_dir=directory)  # none shipped yet
    assert calls == [None]  # every seed measured here
    configs = evidence.configurations(first)
    sm.export_measurements([(c.family, c.chain, c.shuffled, c.measurements) for c in configs], directory)
    record = json.loads((directory / sm.MEASUREMENTS_JSON).read_text())
    assert len(record["entries"]) == 1 and next(iter(record["entries"].values()))["shape"] == [4, 8]
    calls.clear()
    again = evidence.measure_all(main, {}, cache_dir=tmp_path / "c2", shipped_dir=directory)
    assert calls == [(0,)]  # read back, checked on the first seed only
    for arm in paired.ARMS:
        for q in paired.QUANTITIES:
            np.testing.assert_array_equal(again.measured[first.main].values[arm][q], first.measured[first.main].values[arm][q])
    calls.clear()
    evidence.measure_all(main, {}, cache_dir=tmp_path / "c2", shipped_dir=directory)
    assert calls == []  # the check is cached on this machine


def test_measurements_not_reproduced_are_refused(shipped_main, tmp_path):
    main, directory = shipped_main
    m = paired.measure_shape(main["potts"], main["shuffled"])
    bad = {a: {q: v.copy() for q, v in qs.items()} for a, qs in m.values.items()}
    bad["chain-trained"]["erank_ln"][:, 0, 2] *= 1.01  # seed 0, layer 2: 1 % off
    sm.export_measurements([("potts", main["potts"], main["shuffled"], dataclasses.replace(m, values=bad))], directory)
    with pytest.raises(shipped.StaleShippedResults, match="chain-trained/erank_ln differs"):
        evidence.measure_all(main, {}, cache_dir=tmp_path / "c3", shipped_dir=directory)
    # one position's flip of a count is within the tolerance; two are not
    fresh = paired.measure_shape(main["potts"], main["shuffled"], seeds=(0,))
    ok = {a: {q: v.copy() for q, v in qs.items()} for a, qs in m.values.items()}
    ok["chain-init"]["pc90_ln"][:, 0, 1] += 1.0 / BASE.seq_len
    sm.check_measurements(dataclasses.replace(m, values=ok), fresh, positions=BASE.seq_len)
    ok["chain-init"]["pc90_ln"][:, 0, 1] += 1.0 / BASE.seq_len
    with pytest.raises(shipped.StaleShippedResults, match="pc90_ln"):
        sm.check_measurements(dataclasses.replace(m, values=ok), fresh, positions=BASE.seq_len)


def test_a_tampered_file_and_unshipped_weights_are_refused(shipped_main, trained, tmp_path):
    main, directory = shipped_main
    m = paired.measure_shape(main["potts"], main["shuffled"], seeds=(0,))
    with pytest.raises(ValueError, match="not shipped"):
        sm.export_measurements([("potts", trained["potts"], trained["shuffled"], m)], directory)
    assert sm.pair_key(trained["potts"], trained["shuffled"]) is None
    sm.export_measurements([("potts", main["potts"], main["shuffled"], m)], directory)
    (directory / sm.MEASUREMENTS_NPZ).write_bytes(b"not the file")
    with pytest.raises(shipped.StaleShippedResults, match="SHA-256"):
        sm.load_measurements(main["potts"], main["shuffled"], directory)


def test_measure_shape_refuses_seeds_it_does_not_have(shipped_main):
    main, _ = shipped_main
    with pytest.raises(ValueError, match="seeds must be a non-empty subset"):
        paired.measure_shape(main["potts"], main["shuffled"], seeds=(5,))
    assert sm.default_directory("reference") == shipped.SHIPPED_DIR / "reference"
    assert sm.default_directory("smoke") is None
