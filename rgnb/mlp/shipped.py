"""The reference profile's shipped weights, and the numerics contract that checks them.

The ``reference`` profile is never trained by the book's execution: its weights live in
``results/reference/`` (:func:`export_shipped`, :func:`load_shipped`) as float16 with a manifest.
Loading checks them by SHA-256 and by the numerics contract instead of a hash of source text: the
manifest's ``numerics_version`` must equal ``rgnb.mlp.train.NUMERICS_VERSION`` (the golden arrays
of ``rgnb.mlp.golden`` show that the code still computes that version's numbers), and the weights,
re-evaluated on the CPU, must give the losses recorded when they were shipped
(:func:`check_shipped_evaluation`). A refactor that leaves the numbers alone needs no retraining.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import rgnb
from rgnb import cache as _cache
from rgnb.mlp import gate as _gate
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train
from rgnb.profiles import resolve_profile
from rgnb.provenance import REPO_ROOT
from rgnb.validate import check_choice

SHIPPED_DIR = REPO_ROOT / "results"
SHIPPED_MANIFEST = "manifest.json"
#: The profiles whose weights are shipped (never trained by the book's execution or by CI).
SHIPPED_PROFILES = ("reference",)


def retrain_command(profile: str) -> str:
    """The command that retrains a shipped profile and rewrites its files."""
    return (f"PYTHONPATH=$PWD python -m rgnb.mlp --profile {profile} --ship results/{profile}"
            "   # about 3 h on a 2-core CPU, minutes on a GPU; then commit results/")


class StaleShippedResults(RuntimeError):
    """The shipped weights do not match the numerics contract, the configuration or their checksums."""
#: Largest difference (nats per masked token) allowed between a shipped network's held-out loss
#: re-evaluated here and the one recorded when it was shipped (both from the same float16 weights on
#: the CPU): float32 rounding of a reduction order, far below every printed digit and 1e-4 of the gate.
EVALUATION_TOLERANCE_NATS = 1e-6
#: Largest difference (nats) allowed between the loss of the float16 weights and the loss the float32
#: weights had where they were trained, when that was a CPU (the same held-out sequences): a tenth of
#: the convergence gate, so storing in float16 cannot move a gate decision by more than that.
FLOAT16_TOLERANCE_NATS = _gate.GATE_EXCESS_NATS / 10


def _widened_weights(config: _sweeps.SweepConfig, arrays: dict[str, np.ndarray]) -> dict[int, dict[str, torch.Tensor]]:
    """Depth -> parameter dict of the float16 ``weights/depth<L>/<name>`` arrays, widened to float32."""
    return {L: {k: torch.from_numpy(np.asarray(arrays[f"weights/depth{L}/{k}"], dtype=np.float32))
                for k in config.model_config(L).param_names()} for L in config.depths}


def cpu_evaluation(config: _sweeps.SweepConfig, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`evaluate` of the float16 weights in ``arrays``, widened to float32, on the CPU (what the book measures)."""
    return _train.evaluate(config, _widened_weights(config, arrays), torch.device("cpu"))


def _evaluation_record(evaluation: dict[str, np.ndarray]) -> dict[str, list[float]]:
    return {name: [float(x) for x in evaluation[name]] for name in ("final_loss", "bayes_floor")}


def check_shipped_evaluation(family: str, info: dict, evaluation: dict[str, np.ndarray],
                             stored: dict[str, np.ndarray]) -> None:
    """Refuse (:class:`StaleShippedResults`) a shipped sweep whose re-evaluation disagrees with its record.

    ``info`` is the sweep's manifest entry, ``evaluation`` this machine's :func:`cpu_evaluation` of its
    file and ``stored`` the file's arrays. Checks the held-out loss and Bayes floor against the
    manifest's ``cpu_evaluation`` record (:data:`EVALUATION_TOLERANCE_NATS`) and, for a sweep trained on
    a CPU (same held-out sequences), the loss against the float32 loss measured at training
    (:data:`FLOAT16_TOLERANCE_NATS`) and the Bayes floor against the one computed then (exact to 1e-9).
    """
    checks = [(name, np.asarray(info["cpu_evaluation"][name]), EVALUATION_TOLERANCE_NATS,
               "recorded when it was shipped") for name in ("final_loss", "bayes_floor")]
    if str(info["device"]).split(":")[0] == "cpu":
        checks += [("final_loss", stored["trained_final_loss"], FLOAT16_TOLERANCE_NATS, "of its float32 weights"),
                   ("bayes_floor", stored["trained_bayes_floor"], 1e-9, "computed at training")]
    for name, expected, tolerance, what in checks:
        got = np.asarray(evaluation[name], dtype=np.float64)
        if got.shape != expected.shape:
            raise StaleShippedResults(f"shipped sweep {family!r}: {name} has {got.size} values, its record {expected.size}")
        worst = float(np.max(np.abs(got - expected)))
        if not worst <= tolerance:
            raise StaleShippedResults(
                f"shipped sweep {family!r}: the re-evaluated {name} differs from the one {what} by up to "
                f"{worst:.3g} nats (tolerance {tolerance:g}). The evaluation or model code changed the numbers: "
                f"if the golden arrays changed too, bump NUMERICS_VERSION and retrain:\n  "
                f"{retrain_command('reference')}")


def export_shipped(results: dict[str, _train.SweepResult], directory: str | Path, profile: str) -> Path:
    """Write a profile's trained sweeps as shipped results: one ``<family>.npz`` each and a manifest.

    Each file holds the weights as float16 (``weights/depth<L>/<name>``), the logged loss curves
    and the held-out losses measured where it was trained; the manifest records
    :data:`NUMERICS_VERSION`, every sweep's config, device and wall time, each file's SHA-256 and size,
    and the file's :func:`cpu_evaluation` (held-out loss and Bayes floor per network), which loading
    checks. Sweeps already shipped in ``directory`` under the same numerics version and not in
    ``results`` are kept, so one family can be added without retraining the others.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    previous = directory / SHIPPED_MANIFEST
    old: dict = {}
    if previous.is_file():
        old = json.loads(previous.read_text())
        others = sorted(set(old.get("sweeps", {})) - set(results))
        if old.get("profile") == profile and old.get("numerics_version") == _train.NUMERICS_VERSION:
            for f in others:
                files[f] = dict(old["sweeps"][f])
                files[f].setdefault("torch", old.get("torch"))
        elif others:
            warnings.warn(f"{previous} holds sweeps {others} of numerics version {old.get('numerics_version')}, "
                          f"not {_train.NUMERICS_VERSION}; they are dropped from the manifest", RuntimeWarning, stacklevel=2)
    for family, r in results.items():
        arrays = {name: np.asarray(r.entry.array(name), dtype=np.float16) for name in r.entry.names()
                  if name.startswith("weights/")}
        arrays.update({"loss_steps": r.loss_steps, "loss_curves": r.loss_curves.astype(np.float32),
                       "trained_final_loss": r.final_loss, "trained_bayes_floor": r.bayes_floor})
        path = directory / f"{family}.npz"
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)
        files[family] = {"file": path.name, "sha256": _cache._sha256(path), "bytes": path.stat().st_size,
                         "config": json.loads(_cache.canonical_json(r.config)), "members": r.members,
                         "device": r.device, "device_name": r.env.get("device_name", r.device),
                         "wall_time_s": r.wall_time, "train_wall_time_s": r.entry.meta.get("train_wall_time_s"),
                         "torch": r.env.get("torch", torch.__version__),
                         "cpu_evaluation": _evaluation_record(cpu_evaluation(r.config, arrays))}
    manifest = {"profile": profile, "numerics_version": _train.NUMERICS_VERSION,
                "rgnb_version": rgnb.__version__, "torch": torch.__version__, "weights_dtype": "float16",
                "sweeps": files}
    if len(files) > len(results):  # sweeps were kept: so is the manifest's history (e.g. contract_history)
        manifest.update({k: v for k, v in old.items() if k not in manifest})
    tmp = previous.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.replace(previous)  # atomic: a killed export never leaves half a manifest
    return directory


def shipped_manifest(profile: str = "reference", results_dir: str | Path | None = None) -> dict:
    """The manifest of a shipped profile (raises if there is none)."""
    check_choice("profile", profile, SHIPPED_PROFILES)
    path = Path(results_dir if results_dir is not None else SHIPPED_DIR / profile) / SHIPPED_MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no shipped results for profile {profile!r} at {path}; train them with:\n  "
                                + retrain_command(profile))
    return json.loads(path.read_text())


def load_shipped(profile: str = "reference", results_dir: str | Path | None = None,
                 cache_dir=None) -> dict[str, _train.SweepResult]:
    """The shipped sweeps of ``profile``, family -> :class:`SweepResult`, without training.

    Refuses loudly (:class:`StaleShippedResults`, with the retraining command) when the files were
    made under another :data:`NUMERICS_VERSION`, when a sweep's config differs from the one that
    produced its file, when a file fails its SHA-256, and when the float16 weights, widened to
    float32 and re-evaluated on the CPU against the exact Bayes floor, disagree with the evaluation
    recorded in the manifest (:func:`check_shipped_evaluation`). The re-evaluation is stored in
    ``rgnb.cache`` under a key of the file's hash and the evaluation code's source, so later
    chapters reuse it and an edit of the evaluation code re-checks it.
    """
    directory = Path(results_dir if results_dir is not None else SHIPPED_DIR / profile)
    manifest = shipped_manifest(profile, directory)
    expected = _sweeps.sweeps_for(profile)
    scan = _sweeps.scan_sweeps_for(profile)
    shipped, unknown = set(manifest["sweeps"]), set(manifest["sweeps"]) - set(expected) - set(scan)
    if not set(expected) <= shipped or unknown:
        raise StaleShippedResults(f"The shipped {profile} sweeps {sorted(manifest['sweeps'])} differ from the "
                                  f"profile's {sorted(expected)} (and its scan {sorted(scan)}). Retrain them with:\n  "
                                  f"{retrain_command(profile)}")
    return _load_families(profile, directory, manifest, expected, cache_dir)


def load_scan(profile: str = "reference", results_dir: str | Path | None = None,
              cache_dir=None) -> dict[str, _train.SweepResult]:
    """The shipped P1 scan sweeps of ``profile`` (``rgnb.mlp.sweeps.SCAN``), family -> :class:`SweepResult`.

    Checked like :func:`load_shipped`; refuses (:class:`StaleShippedResults`, with the command that trains
    them) when a scan sweep is not shipped yet.
    """
    directory = Path(results_dir if results_dir is not None else SHIPPED_DIR / profile)
    manifest = shipped_manifest(profile, directory)
    scan = _sweeps.scan_sweeps_for(profile)
    missing = sorted(set(scan) - set(manifest["sweeps"]))
    if missing:
        raise StaleShippedResults(
            f"The {profile} scan sweeps {missing} are not shipped in {directory}. Train them with:\n  "
            f"PYTHONPATH=$PWD python -m rgnb.mlp --profile {profile} --scan --ship results/{profile}")
    return _load_families(profile, directory, manifest, scan, cache_dir)


def _load_families(profile: str, directory: Path, manifest: dict, expected: dict[str, _sweeps.SweepConfig],
                   cache_dir) -> dict[str, _train.SweepResult]:
    if manifest.get("numerics_version") != _train.NUMERICS_VERSION:
        raise StaleShippedResults(
            f"The shipped {profile} weights in {directory} were made under numerics version "
            f"{manifest.get('numerics_version')}, but the code computes version {_train.NUMERICS_VERSION} "
            f"(rgnb.mlp.train.NUMERICS_VERSION): they no longer match. Retrain them with:\n  {retrain_command(profile)}")
    out = {}
    evaluation_code = _cache.source_hash(cpu_evaluation)
    for family in sorted(expected):
        info = manifest["sweeps"][family]
        config = expected[family]
        if info["config"] != json.loads(_cache.canonical_json(config)):
            raise StaleShippedResults(f"The shipped {profile} sweep {family!r} was trained with another config "
                                      f"than rgnb.mlp.sweeps.SWEEPS now states. Retrain with:\n  {retrain_command(profile)}")
        path = directory / info["file"]
        if not path.is_file() or _cache._sha256(path) != info["sha256"]:
            raise StaleShippedResults(f"{path} is missing or fails its SHA-256 {info['sha256'][:16]}...; restore it "
                                      f"from git or retrain with:\n  {retrain_command(profile)}")
        key = _cache.config_key({"shipped": info["sha256"], "family": family}, kind="shipped-sweep",
                                numerics_version=_train.NUMERICS_VERSION, code=evaluation_code,
                                record=info["cpu_evaluation"])
        entry = _cache.load(key, cache_dir)
        hit = entry is not None
        if not hit:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k], dtype=np.float32) if k.startswith("weights/") else z[k] for k in z.files}
            started = time.perf_counter()
            evaluation = cpu_evaluation(config, arrays)
            check_shipped_evaluation(family, info, evaluation, arrays)
            arrays.update(evaluation)
            meta = {"config": config, "members": info["members"], "device": info["device"],
                    "wall_time_s": info["wall_time_s"], "train_wall_time_s": info["train_wall_time_s"],
                    "env": {"device_name": info["device_name"]}, "shipped": True, "sha256": info["sha256"],
                    "numerics_version": _train.NUMERICS_VERSION, "evaluate_wall_time_s": time.perf_counter() - started}
            _cache.store(key, arrays, meta, cache_dir)
            entry = _cache.load(key, cache_dir, remove_bad=False)
        out[family] = _train.SweepResult.from_entry(config, key, entry, from_cache=hit)
    return out


def load_profile(profile: str, device: torch.device | str = "auto", cache_dir=None,
                 progress: bool = False) -> dict[str, _train.SweepResult]:
    """Every sweep of a profile, family -> :class:`SweepResult`: shipped profiles are loaded (never
    trained), the others trained or read from the cache."""
    return _load_or_train(profile, device, cache_dir, progress, load_shipped, _sweeps.sweeps_for)


def load_scan_profile(profile: str, device: torch.device | str = "auto", cache_dir=None,
                      progress: bool = False) -> dict[str, _train.SweepResult]:
    """Every scan sweep of a profile (``rgnb.mlp.sweeps.SCAN``), family -> :class:`SweepResult`: shipped
    profiles are loaded (:func:`load_scan`, never trained), the others trained or read from the cache."""
    return _load_or_train(profile, device, cache_dir, progress, load_scan, _sweeps.scan_sweeps_for)


def _load_or_train(profile, device, cache_dir, progress, load, configs_for) -> dict[str, _train.SweepResult]:
    resolved = resolve_profile(check_choice("profile", profile, ("smoke", "reference", "full", "auto")))
    if resolved in SHIPPED_PROFILES:
        return load(resolved, cache_dir=cache_dir)
    return {family: _train.run_sweep(cfg, device, cache_dir=cache_dir, progress=progress)
            for family, cfg in configs_for(resolved).items()}
