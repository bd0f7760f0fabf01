"""Tests of rgnb.mlp (sweeps, data, train, gate, shipped, chapter): ensemble = models alone, learning, caching, the gate, shipped results, bad configs."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from rgnb import cache, chains
from rgnb.mlp import chapter, data, gate, model, shipped, sweeps, train

TINY = sweeps.SweepConfig(vocab_size=4, seq_len=8, xis=(1.0, 4.0), depths=(1, 2), seeds=(0, 1), width=8,
                         channel_mult=2, steps=60, warmup=6, batch_size=16, lr=1e-2, data_chunk=7, log_every=5,
                         n_probe=8, n_eval=64)
#: A chain with nothing to learn from the context: a tiny network reaches its floor (ln V) quickly.
SHUFFLED = sweeps.SweepConfig(kind="shuffled", vocab_size=4, seq_len=8, xis=(1.0,), depths=(1,), seeds=(0, 1),
                             width=8, channel_mult=2, steps=200, warmup=10, batch_size=64, lr=1e-2, data_chunk=50,
                             log_every=10, n_probe=8, n_eval=2000)


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    return train.run_sweep(TINY, "cpu", cache_dir=tmp_path_factory.mktemp("cache"), progress=False)


@pytest.fixture(scope="module")
def shuffled_result(tmp_path_factory):
    return train.run_sweep(SHUFFLED, "cpu", cache_dir=tmp_path_factory.mktemp("cache"), progress=False)


def test_ensemble_member_equals_model_trained_alone(tiny_result):
    for i in (1, 6):  # (depth 1, xi 1, seed 1) and (depth 2, xi 4, seed 0)
        m = tiny_result.members[i]
        alone_cfg = dataclasses.replace(TINY, xis=(m["xi"],), seeds=(m["seed"],), depths=(m["depth"],))
        arrays, _ = train.train_sweep(alone_cfg, torch.device("cpu"), progress=False)
        np.testing.assert_allclose(tiny_result.loss_per_step[:, i], arrays["loss_per_step"][:, 0], atol=1e-5, rtol=0)
        np.testing.assert_allclose(tiny_result.final_loss[i], arrays["final_loss"][0], atol=1e-5)
        w = arrays[f"weights/depth{m['depth']}/out_w"][0]
        np.testing.assert_allclose(tiny_result.weights(i)["out_w"][0].numpy(), w, atol=1e-5)


def test_result_api_shapes_and_identities(tiny_result):
    r = tiny_result
    M = len(TINY.xis) * len(TINY.seeds) * len(TINY.depths)
    assert len(r.members) == M and r.members[0] == {"xi": 1.0, "seed": 0, "depth": 1, "kind": "potts"}
    assert r.loss_curves.shape == (M, TINY.steps // TINY.log_every)
    np.testing.assert_array_equal(r.loss_steps, np.arange(5, 61, 5))
    np.testing.assert_allclose(r.loss_curves[:, 0], r.loss_per_step[:5].mean(0), rtol=1e-6)
    for i, m in enumerate(r.members):
        for stage in train.STAGES:
            s = r.streams(i, stage)
            assert s.shape == (m["depth"] + 1, TINY.n_probe, TINY.seq_len, TINY.width) and s.dtype == np.float32
    probe = r.probe_tokens(4.0)
    assert probe.shape == (TINY.n_probe, TINY.seq_len) and probe.dtype == np.int64
    np.testing.assert_array_equal(probe == TINY.vocab_size, r.probe_mask(4.0))
    np.testing.assert_array_equal(np.where(r.probe_mask(4.0), TINY.vocab_size, r.probe_targets(4.0)), probe)
    np.testing.assert_allclose(r.excess_loss, r.final_loss - r.bayes_floor)
    assert np.all((r.bayes_low <= r.bayes_floor) & (r.bayes_floor <= r.bayes_high))
    rows = r.runs_table()
    assert len(rows) == M and {"seed", "steps", "device", "gate", "share"} <= set(rows[0])
    assert r.select(xi=4.0, depth=2) == [6, 7]
    with pytest.raises(ValueError, match="xi"):
        r.probe_tokens(3.0)
    with pytest.raises(ValueError, match="stage"):
        r.streams(0, "final")


def test_streams_are_the_models_streams_at_both_stages(tiny_result):
    i = 5
    m = tiny_result.members[i]
    inputs = torch.from_numpy(tiny_result.probe_tokens(m["xi"]))
    trained = model.residual_streams(tiny_result.weights(i), inputs)[0].numpy()
    np.testing.assert_array_equal(trained, tiny_result.streams(i, "trained"))
    init = model.residual_streams(model.init_params(TINY.model_config(m["depth"]), [m["seed"]]), inputs)[0].numpy()
    np.testing.assert_array_equal(init, tiny_result.streams(i, "init"))
    assert np.abs(trained - init).max() > 1e-3


def test_bayes_floor_is_a_lower_bound_and_matches_chains(tiny_result):
    assert tiny_result.excess_loss.min() > -1e-3
    tokens, mask, _ = data.fixed_set(TINY, 4.0, TINY.n_eval, TINY.eval_seed, torch.device("cpu"))
    P = chains.make_chain("potts", 4, 4.0)
    exact = float(chains.masked_token_losses(P, tokens, mask).sum() / mask.sum())
    i = tiny_result.select(xi=4.0)[0]
    assert tiny_result.bayes_floor[i] == pytest.approx(exact, rel=1e-12)


def test_loss_decreases_on_a_tiny_run(tiny_result):
    first, last = tiny_result.loss_curves[:, 0], tiny_result.loss_curves[:, -1]
    assert np.all(last < first)
    assert tiny_result.final_loss[tiny_result.select(xi=4.0)].max() < math.log(TINY.vocab_size)


def test_shuffled_chain_is_iid_uniform_and_its_floor_is_ln_v(shuffled_result):
    P = data.chain_matrix("shuffled", 4, 1.0)
    np.testing.assert_array_equal(P, np.full((4, 4), 0.25))
    np.testing.assert_allclose(shuffled_result.bayes_floor, math.log(4), rtol=1e-12)
    assert np.isnan(shuffled_result.recovered_share()).all()


def test_gate_passes_a_trained_model_and_fails_an_untrained_one(shuffled_result):
    r = shuffled_result
    assert r.gate().all(), r.excess_loss          # trained to its floor
    init = {1: model.init_params(SHUFFLED.model_config(1), list(SHUFFLED.seeds))}
    untrained = train.evaluate(SHUFFLED, init, torch.device("cpu"))
    share = np.full(len(SHUFFLED.seeds), np.nan)
    assert not gate.gate_passes(untrained["excess_loss"], share).any(), untrained["excess_loss"]
    ok, detail = gate.premise({"shuffled": r})
    assert ok and detail.startswith("2/2")


def test_gate_thresholds_and_directions():
    e = np.array([0.0, 0.0099, 0.0101, 0.005, 0.005, 0.001])
    s = np.array([1.0, 0.96, 0.99, 0.949, 0.951, np.nan])
    np.testing.assert_array_equal(gate.gate_passes(e, s), [True, True, False, False, True, True])
    assert gate.GATE_EXCESS_NATS == 0.01 and gate.GATE_SHARE == 0.95
    with pytest.raises(ValueError, match="same shape"):
        gate.gate_passes(e, s[:2])
    with pytest.raises(ValueError, match="max_excess"):
        gate.gate_passes(e, s, max_excess=float("nan"))


def test_training_claims_follow_the_gate(tiny_result, shuffled_result):
    rows = {r.id: r for r in chapter.training_claims({"potts": tiny_result, "shuffled": shuffled_result}, "smoke")}
    assert set(rows) == {"training-gate-excess", "training-gate-share"}
    excess, share = rows["training-gate-excess"], rows["training-gate-share"]
    assert excess.verdict == "not reproduced"      # 60 steps: far from the floor; the worst network decides
    worst = max(tiny_result.excess_loss.max(), shuffled_result.excess_loss.max())
    assert excess.effects["value"]["estimate"] == pytest.approx(worst, rel=1e-2)
    subs = {s["configuration"]: s["verdict"] for s in excess.subrows}
    assert subs == {"sweep potts": "not reproduced", "sweep shuffled": "reproduced"}
    assert share.verdict == "not reproduced" and [s["configuration"] for s in share.subrows] == ["sweep potts"]
    assert share.effects["value"]["estimate"] == pytest.approx(np.nanmin(tiny_result.recovered_share()), rel=1e-2)


def test_cache_hit_miss_and_corruption(tmp_path):
    cfg = dataclasses.replace(TINY, xis=(1.0,), seeds=(0,), depths=(1,), steps=5, warmup=1, log_every=5)
    first = train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False)
    assert not first.from_cache
    again = train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False)
    assert again.from_cache and again.key == first.key
    np.testing.assert_array_equal(again.loss_curves, first.loss_curves)
    wfile = first.entry.path / "weights" / "depth1" / "out_w.npy"
    data = bytearray(wfile.read_bytes())
    data[-3] ^= 0x55
    wfile.write_bytes(bytes(data))
    redone = train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False)
    assert not redone.from_cache
    np.testing.assert_array_equal(redone.streams(0, "trained"), first.streams(0, "trained"))  # deterministic
    other = train.run_sweep(dataclasses.replace(cfg, seeds=(1,)), "cpu", cache_dir=tmp_path, progress=False)
    assert not other.from_cache and other.key != first.key
    meta = redone.entry.meta
    assert {"config", "env", "device", "wall_time_s"} <= set(meta) and meta["env"]["torch"] == torch.__version__


# --------------------------------------------------------------------------------------------- #
# Shipped results
# --------------------------------------------------------------------------------------------- #
@pytest.fixture()
def shipped_dir(tmp_path, monkeypatch, tiny_result, shuffled_result):
    monkeypatch.setitem(sweeps.SWEEPS, "reference", {"potts": TINY, "shuffled": SHUFFLED})
    directory = shipped.export_shipped({"potts": tiny_result, "shuffled": shuffled_result}, tmp_path / "ship",
                                     "reference")
    return directory


def test_shipped_results_load_without_training(shipped_dir, tmp_path, monkeypatch, tiny_result):
    def no_training(*args, **kwargs):
        raise AssertionError("loading shipped results must not train")
    monkeypatch.setattr(torch.optim, "AdamW", no_training)  # every training run builds one
    loaded = shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")
    assert set(loaded) == {"potts", "shuffled"} and loaded["potts"].shipped
    r = loaded["potts"]
    w16 = r.weights(3)["ch_w1"].numpy()
    np.testing.assert_allclose(w16, tiny_result.weights(3)["ch_w1"].numpy(), rtol=1e-3, atol=1e-3)  # float16
    assert np.abs(r.final_loss - tiny_result.final_loss).max() < 2e-3
    np.testing.assert_array_equal(r.bayes_floor, tiny_result.bayes_floor)  # same held-out set on the CPU
    np.testing.assert_allclose(r.loss_curves, tiny_result.loss_curves, rtol=1e-6)
    again = shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")
    assert again["potts"].from_cache
    manifest = json.loads((shipped_dir / shipped.SHIPPED_MANIFEST).read_text())
    assert manifest["numerics_version"] == train.NUMERICS_VERSION and manifest["weights_dtype"] == "float16"
    record = manifest["sweeps"]["potts"]["cpu_evaluation"]
    np.testing.assert_array_equal(record["final_loss"], r.final_loss)  # the record is this evaluation
    np.testing.assert_array_equal(record["bayes_floor"], r.bayes_floor)
    assert manifest["sweeps"]["potts"]["sha256"] == cache._sha256(shipped_dir / "potts.npz")


def test_shipping_one_family_keeps_the_others(shipped_dir, tiny_result, tmp_path, monkeypatch):
    """Adding a family (e.g. the robustness reading) rewrites neither the other files nor their entries."""
    before = json.loads((shipped_dir / shipped.SHIPPED_MANIFEST).read_text())
    before["contract_history"] = [{"replaces_code_hash": "x"}]
    (shipped_dir / shipped.SHIPPED_MANIFEST).write_text(json.dumps(before))
    monkeypatch.setitem(sweeps.SWEEPS, "reference", {"potts": TINY, "shuffled": SHUFFLED, "extra": TINY})
    shipped.export_shipped({"extra": tiny_result}, shipped_dir, "reference")
    after = json.loads((shipped_dir / shipped.SHIPPED_MANIFEST).read_text())
    assert set(after["sweeps"]) == {"potts", "shuffled", "extra"}
    assert after["sweeps"]["potts"] == before["sweeps"]["potts"]
    assert after["contract_history"] == before["contract_history"]
    assert after["torch"] == torch.__version__ and after["sweeps"]["extra"]["torch"] == torch.__version__
    del before["sweeps"]["potts"]["torch"]  # a manifest from before per-sweep versions: the top-level one is kept
    (shipped_dir / shipped.SHIPPED_MANIFEST).write_text(json.dumps(before))
    shipped.export_shipped({"extra": tiny_result}, shipped_dir, "reference")
    again = json.loads((shipped_dir / shipped.SHIPPED_MANIFEST).read_text())
    assert again["sweeps"]["potts"]["torch"] == before["torch"]
    assert set(shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")) == {"potts", "shuffled", "extra"}
    monkeypatch.setattr(train, "NUMERICS_VERSION", train.NUMERICS_VERSION + 1)  # other numerics: nothing is kept
    with pytest.warns(RuntimeWarning, match="dropped"):
        shipped.export_shipped({"extra": tiny_result}, shipped_dir, "reference")
    assert set(json.loads((shipped_dir / shipped.SHIPPED_MANIFEST).read_text())["sweeps"]) == {"extra"}


def test_shipped_results_refuse_a_changed_file(shipped_dir, tmp_path):
    path = shipped_dir / "potts.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(shipped.StaleShippedResults, match="SHA-256"):
        shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")


def test_shipped_results_refuse_another_numerics_version_with_the_retrain_command(shipped_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(train, "NUMERICS_VERSION", train.NUMERICS_VERSION + 1)
    with pytest.raises(shipped.StaleShippedResults, match=r"numerics version 1, but the code computes version 2(.|\n)*"
                                                        r"python -m rgnb\.mlp --profile reference --ship"):
        shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")


def test_an_edit_of_the_code_that_keeps_its_numbers_costs_a_re_evaluation_not_a_retraining(shipped_dir, tmp_path,
                                                                                             monkeypatch):
    """Loading checks numbers, not source text: after an edit of the evaluation code (another source
    hash) the shipped files are re-evaluated, checked against their record, and load."""
    assert not shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")["potts"].from_cache
    assert shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")["potts"].from_cache
    monkeypatch.setattr(cache, "source_hash", lambda *objects: "edited")
    again = shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")
    assert not again["potts"].from_cache and again["potts"].shipped


def _rewrite_manifest(directory, change):
    path = directory / shipped.SHIPPED_MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("name", ["final_loss", "bayes_floor"])
def test_shipped_results_refuse_a_re_evaluation_that_disagrees_with_the_record(shipped_dir, tmp_path, name):
    """As after an edit of the evaluation (model forward, Bayes floor) that changes its numbers."""
    def shift(m):
        record = m["sweeps"]["shuffled"]["cpu_evaluation"][name]
        record[1] += 2 * shipped.EVALUATION_TOLERANCE_NATS
    _rewrite_manifest(shipped_dir, shift)
    with pytest.raises(shipped.StaleShippedResults, match=f"shipped sweep 'shuffled': the re-evaluated {name} differs "
                                                        "from the one recorded when it was shipped by up to 2e-06"):
        shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")
    def within(m):
        m["sweeps"]["shuffled"]["cpu_evaluation"][name][1] -= 1.5 * shipped.EVALUATION_TOLERANCE_NATS
    _rewrite_manifest(shipped_dir, within)  # now 0.5 tolerance away: accepted
    assert set(shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")) == {"potts", "shuffled"}


def test_shipped_results_refuse_weights_that_do_not_give_their_training_losses(shipped_dir, tmp_path):
    """A CPU-trained file whose float16 weights are far from the losses measured at training is refused,
    even when its manifest record was made from the same file."""
    path = shipped_dir / "potts.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["trained_final_loss"] = arrays["trained_final_loss"] + 2 * shipped.FLOAT16_TOLERANCE_NATS
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    def resign(m):
        m["sweeps"]["potts"]["sha256"] = cache._sha256(path)
    _rewrite_manifest(shipped_dir, resign)
    with pytest.raises(shipped.StaleShippedResults, match="differs from the one of its float32 weights"):
        shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")


def test_float16_storage_stays_within_its_tolerance(tiny_result):
    """The float16 tolerance is not vacuous: widening float16 weights moves the loss, and by less than it."""
    arrays = {n: np.asarray(tiny_result.entry.array(n), dtype=np.float16) for n in tiny_result.entry.names()
              if n.startswith("weights/")}
    moved = np.abs(shipped.cpu_evaluation(TINY, arrays)["final_loss"] - tiny_result.final_loss)
    assert 0 < moved.max() < shipped.FLOAT16_TOLERANCE_NATS


def test_shipped_results_refuse_a_changed_config(shipped_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sweeps.SWEEPS, "reference", {"potts": dataclasses.replace(TINY, lr=2e-2), "shuffled": SHUFFLED})
    with pytest.raises(shipped.StaleShippedResults, match="another config"):
        shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")


def test_reference_profile_is_loaded_never_trained(monkeypatch, tmp_path):
    monkeypatch.setattr(shipped, "SHIPPED_DIR", tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="python -m rgnb.mlp"):
        shipped.load_profile("reference")


def test_lr_schedule():
    f = [train.lr_factor(s, 10, 100, 0.1) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0) and f[10] == pytest.approx(1.0)
    assert f[-1] == pytest.approx(0.1, abs=1e-3) and all(a >= b for a, b in zip(f[10:], f[11:]))


@pytest.mark.parametrize("field,value", [("depths", (0,)), ("depths", (2, 0)), ("width", 0), ("steps", 0),
                                         ("steps", 10**12), ("batch_size", 10**9), ("width", 10**6),
                                         ("xis", (100.0,)), ("seeds", ()), ("batch_size", 0), ("lr", float("nan")),
                                         ("stream_dtype", "int8"), ("kind", "zigzag"),
                                         ("architecture", "transformer")])
def test_bad_config_names_the_parameter(field, value):
    name = {"depths": "depth", "xis": "xi"}.get(field, field)
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(TINY, **{field: value})


def test_profiles():
    assert sweeps.sweep_for("smoke") is sweeps.SWEEPS["smoke"]["potts"]
    ref = sweeps.sweeps_for("reference")
    assert {"potts", "ring", "shuffled"} <= set(ref)
    for family, cfg in ref.items():
        assert len(cfg.seeds) >= 10 and max(cfg.depths) >= 8 and cfg.seeds == ref["potts"].seeds
        steps = ref["potts"].steps if cfg.architecture == sweeps.MIXER else sweeps.NO_LAYERNORM_STEPS
        assert cfg.steps == steps and cfg.mask == (sweeps.ISOLATED_MASK if "isolated" in family else chains.DEFAULT_MASK)
        assert family.endswith(sweeps.NO_LAYERNORM_SUFFIX) == (cfg.architecture == sweeps.NO_LAYERNORM)
    xis = ref["potts"].xis
    assert min(abs(np.array(xis) - 1.0)) < 0.3 and min(abs(np.array(xis) - 7.0)) < 1.0 and ref["ring"].xis == xis
    full = sweeps.sweeps_for("full")
    assert all(max(c.depths) >= 16 and c.width >= 64 and c.seq_len == 32 for c in full.values())
    with pytest.raises(ValueError, match="profile"):
        sweeps.sweep_for("huge")
    with pytest.raises(ValueError, match="config"):
        train.run_sweep({"steps": 3}, "cpu")


def test_cpu_estimate_adds_up_over_families():
    fams = list(sweeps.sweeps_for("reference"))
    total = sweeps.cpu_training_estimate_h("reference")
    parts = [sweeps.cpu_training_estimate_h("reference", families=[f]) for f in fams]
    assert sum(parts) == pytest.approx(total) and all(p > 0 for p in parts)
    # 20 networks x NO_LAYERNORM_STEPS steps of depth 8 at the measured rate, on 2 cores
    assert parts[fams.index("potts-nolayernorm")] == pytest.approx(
        20 * sweeps.NO_LAYERNORM_STEPS * sweeps.CPU_MS_PER_MODEL_STEP_DEPTH8 / 1000 / 3600 / 2)
    with pytest.raises(ValueError, match="family"):
        sweeps.cpu_training_estimate_h("reference", families=["nope"])
    # a measured rate replaces the constant, linearly; it must be positive
    assert sweeps.cpu_training_estimate_h("reference", families=["potts-nolayernorm"], ms_per_model_step=10.0) == \
        pytest.approx(20 * sweeps.NO_LAYERNORM_STEPS * 10.0 / 1000 / 3600 / 2)
    with pytest.raises(ValueError, match="ms_per_model_step"):
        sweeps.cpu_training_estimate_h("reference", ms_per_model_step=0.0)


def test_gate_markdown_is_the_gate_summary_as_a_table(tiny_result, shuffled_result):
    table = gate.gate_markdown({"potts": tiny_result, "shuffled": shuffled_result}).splitlines()
    assert table[0].startswith("| sweep | networks | pass the gate |") and len(table) == 4
    s = gate.gate_summary({"potts": tiny_result})[0]
    assert table[2] == (f"| potts | {s['models']} | {s['pass']} | {s['excess min']:.4f} / {s['excess median']:.4f} / "
                        f"{s['excess max']:.4f} | {s['share min']:.3f} / {s['share median']:.3f} / {s['share max']:.3f} |")
    assert table[3].endswith("| n/a (no context information) |")  # the shuffled chain carries no context


def test_trained_bytes_do_not_depend_on_the_thread_count():
    """run_sweep picks the thread count by load (rgnb.mlp.step.training_threads); the weights must not depend on it.
    Shapes large enough for torch's parallel kernels and reductions to split work (> 32768 elements)."""
    cfg = dataclasses.replace(TINY, xis=(4.0,), depths=(2,), width=32, seq_len=16, batch_size=64, steps=4, warmup=1,
                              data_chunk=2, log_every=2)
    before = torch.get_num_threads()
    runs = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            runs.append(train.train_sweep(cfg, torch.device("cpu"), progress=False)[0])
    finally:
        torch.set_num_threads(before)
    assert runs[0].keys() == runs[1].keys()
    for k in runs[0]:
        assert np.array_equal(runs[0][k], runs[1][k]), k


def test_run_sweep_trains_with_the_chosen_threads_and_records_them(monkeypatch, tmp_path):
    monkeypatch.setenv("RGNB_THREADS", "1")
    original = torch.get_num_threads()
    torch.set_num_threads(2)  # a count the override differs from, whatever the environment's default
    seen = []
    real = train.train_sweep
    monkeypatch.setattr(train, "train_sweep", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    cfg = dataclasses.replace(TINY, xis=(1.0,), depths=(1,), seeds=(0,), steps=5, warmup=1, log_every=5, data_chunk=5)
    try:
        result = train.run_sweep(cfg, "cpu", cache_dir=tmp_path, progress=False)
        assert seen == [1] and result.entry.meta["torch_threads"] == 1 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(original)


def test_scan_sweeps_ship_one_by_one_beside_the_main_ones(shipped_dir, tmp_path, monkeypatch, tiny_result,
                                                          shuffled_result):
    """A scan sweep shipped beside the main ones: load_shipped still loads the main sweeps only, load_scan
    refuses while a scan sweep is missing (naming the command that trains it) and loads them once shipped; a
    shipped family that is neither main nor scan is refused."""
    monkeypatch.setitem(sweeps.SCAN, "reference", {"potts-L4V8": TINY, "shuffled-L4V8": SHUFFLED})
    shipped.export_shipped({"potts-L4V8": tiny_result}, shipped_dir, "reference")
    assert set(shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")) == {"potts", "shuffled"}
    with pytest.raises(shipped.StaleShippedResults, match=r"(?s)\['shuffled-L4V8'\] are not shipped.*--scan"):
        shipped.load_scan("reference", shipped_dir, cache_dir=tmp_path / "c")
    shipped.export_shipped({"shuffled-L4V8": shuffled_result}, shipped_dir, "reference")
    scan = shipped.load_scan("reference", shipped_dir, cache_dir=tmp_path / "c")
    assert set(scan) == {"potts-L4V8", "shuffled-L4V8"} and scan["potts-L4V8"].shipped
    monkeypatch.setitem(sweeps.SCAN, "reference", {"potts-L4V8": TINY})
    with pytest.raises(shipped.StaleShippedResults, match="differ from the profile"):
        shipped.load_shipped("reference", shipped_dir, cache_dir=tmp_path / "c")


def test_scan_families_name_their_shape():
    scan = sweeps.scan_sweeps_for("reference")
    assert len(scan) == 8 and {sweeps.scan_shape(f) for f in scan} == set(sweeps.SCAN_SHAPES) - {sweeps.MAIN_SHAPE}
    for family, cfg in scan.items():
        shape = sweeps.scan_shape(family)
        assert cfg.depths == (shape.depth,) and cfg.vocab_size == shape.vocab_size
        assert cfg.steps == sweeps.SCAN_STEPS.get(shape, sweeps.REFERENCE_STEPS) and cfg.seeds == tuple(range(10))
        assert cfg.warmup == cfg.steps // 20
        main = sweeps.sweeps_for("reference")[family.split("-")[0]]
        assert dataclasses.replace(cfg, depths=main.depths, vocab_size=main.vocab_size, xis=main.xis,
                                   steps=main.steps, warmup=main.warmup) == main  # nothing else differs
    assert scan["potts-L8V16"].steps == scan["shuffled-L8V16"].steps > sweeps.REFERENCE_STEPS  # a pair shares it
    with pytest.raises(ValueError, match="not a scan family"):
        sweeps.scan_shape("potts")
