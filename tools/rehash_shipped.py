"""Carry the shipped reference weights across a refactor that does not change what training computes.

``rgnb.train.code_hash`` hashes the *source* of the training code, so any edit of it (a new option
with a default that leaves the old path untouched, a validation helper swapped for the shared one)
makes execution refuse the shipped weights. Retraining them costs about two hours on a 2-core CPU.
This tool replaces the retraining by a proof on the same machine:

1. it checks out ``--against REV`` (the revision whose code trained the shipped files; its
   ``code_hash`` must equal the manifest's) in a temporary git worktree;
2. for every shipped family it trains a shrunk copy of the family's sweep (the same config with
   ``--steps`` steps, data refilled every third of them, the first two seeds and chains, a small
   held-out set) on the CPU with the old
   code and with the current code, in separate processes, and compares every array (weights,
   per-step losses, held-out losses) **byte for byte**;
3. only if every array is identical, it rewrites the manifest: the new code hash, each sweep's
   config as the current code serialises it (its old fields must be unchanged; new fields are
   listed), and an entry in ``rehash_history`` with the evidence. The weight files are untouched.

Usage (from the repository root):
    PYTHONPATH=$PWD python tools/rehash_shipped.py --against f818dfd [--steps 30] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: Prints the training code's hash of the code on PYTHONPATH.
_HASH = "from rgnb import train; print(train.code_hash())"

#: Trains the shrunk copy of one shipped family with the code on PYTHONPATH; writes its arrays.
_TRAIN = r"""
import dataclasses, sys
import numpy as np, torch
torch.set_num_threads(1)
from rgnb import train
profile, family, steps, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = train.sweeps_for(profile)[family]
cfg = dataclasses.replace(base, steps=steps, warmup=max(1, steps // 10), log_every=steps, seeds=base.seeds[:2],
                          xis=base.xis[:2], n_eval=64, n_probe=8, data_chunk=max(1, steps // 3))  # crosses refills
arrays, meta = train.train_sweep(cfg, torch.device("cpu"), progress=False)
np.savez(out, **arrays)
"""


def run_in(tree: Path, code: str, *args: str) -> str:
    """Run ``code`` with ``tree`` first on PYTHONPATH; return its stdout (raises on failure)."""
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tree, env=env, check=True, capture_output=True,
                          text=True).stdout


def identical(a: Path, b: Path) -> list[str]:
    """Names of the arrays that differ between two npz files (missing on one side counts)."""
    with np.load(a) as x, np.load(b) as y:
        names = sorted(set(x.files) | set(y.files))
        return [n for n in names if n not in x.files or n not in y.files
                or x[n].dtype != y[n].dtype or x[n].shape != y[n].shape or x[n].tobytes() != y[n].tobytes()]


def updated_manifest(manifest: dict, new_hash: str, new_configs: dict[str, dict], evidence: dict) -> dict:
    """The manifest with ``new_hash`` and the current configs; refuses a config whose old fields changed."""
    out = json.loads(json.dumps(manifest))
    added = {}
    for family, info in out["sweeps"].items():
        old, new = info["config"], new_configs[family]
        changed = sorted(k for k in old if new.get(k) != old[k])
        if changed:
            raise ValueError(f"sweep {family!r}: fields {changed} changed value; the shipped weights do not "
                             "belong to the current config, retrain them")
        added[family] = sorted(set(new) - set(old))
        info["config"] = new
    entry = dict(evidence, previous_code_hash=manifest["code_hash"], code_hash=new_hash, added_config_fields=added)
    out.setdefault("rehash_history", []).append(entry)
    out["code_hash"] = new_hash
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/rehash_shipped.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="revision whose code trained the shipped weights")
    parser.add_argument("--steps", type=int, default=30, help="training steps of each shrunk sweep (>= 2)")
    parser.add_argument("--profile", default="reference")
    parser.add_argument("--dry-run", action="store_true", help="compare only; do not rewrite the manifest")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error(f"--steps must be an integer >= 2, got {args.steps}")
    sys.path.insert(0, str(ROOT))
    from rgnb import cache, train

    manifest_path = ROOT / "results" / args.profile / train.SHIPPED_MANIFEST
    manifest = json.loads(manifest_path.read_text())
    rev = subprocess.run(["git", "rev-parse", args.against], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="rgnb-rehash-") as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old_tree), rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            old_hash = run_in(old_tree, _HASH).strip().splitlines()[-1]
            if old_hash != manifest["code_hash"]:
                print(f"[rehash] {rev[:10]} hashes to {old_hash}, the manifest says {manifest['code_hash']}: "
                      "that revision did not train the shipped weights", file=sys.stderr)
                return 2
            compared = {}
            for family in sorted(manifest["sweeps"]):
                outs = {}
                for side, tree in (("old", old_tree), ("new", ROOT)):
                    outs[side] = Path(tmp) / f"{family}-{side}.npz"
                    run_in(tree, _TRAIN, args.profile, family, str(args.steps), str(outs[side]))
                diff = identical(outs["old"], outs["new"])
                with np.load(outs["new"]) as z:
                    compared[family] = len(z.files)
                print(f"[rehash] {family}: {compared[family]} arrays, {len(diff)} differ"
                      + (f" ({', '.join(diff[:5])})" if diff else ""), flush=True)
                if diff:
                    print("[rehash] the current code trains different weights: retrain with\n  "
                          + train.retrain_command(args.profile), file=sys.stderr)
                    return 1
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT, check=False)
    new_hash = train.code_hash()
    if new_hash == manifest["code_hash"]:
        print("[rehash] the code hash did not change; nothing to do")
        return 0
    sweeps = train.sweeps_for(args.profile)
    new_configs = {f: json.loads(cache.canonical_json(sweeps[f])) for f in manifest["sweeps"]}
    evidence = {"verified_against": rev, "steps": args.steps, "device": "cpu",
                "shipped_devices": sorted({info.get("device", "?") for info in manifest["sweeps"].values()}),
                "test": "shrunk copy of every shipped sweep (2 seeds, 2 chains) trained by both revisions on the CPU; "
                        "every array byte-identical (the identity is checked on the CPU, whatever device trained "
                        "the shipped files)", "arrays_compared": compared}
    updated = updated_manifest(manifest, new_hash, new_configs, evidence)
    if args.dry_run:
        print(json.dumps(updated["rehash_history"][-1], indent=2))
        return 0
    manifest_path.write_text(json.dumps(updated, indent=2, sort_keys=True) + "\n")
    print(f"[rehash] {manifest['code_hash']} -> {new_hash}: {manifest_path} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
