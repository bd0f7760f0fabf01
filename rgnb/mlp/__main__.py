"""``python -m rgnb.mlp --profile reference [--device auto] [--family F | --scan | --measure] [--ship results/reference]``."""

from __future__ import annotations

import argparse
import sys
import time

from rgnb.mlp import evidence as _evidence
from rgnb.mlp import gate as _gate
from rgnb.mlp import shipped as _shipped
from rgnb.mlp import shipped_measurements as _sm
from rgnb.mlp import sweeps as _sweeps
from rgnb.mlp import train as _train
from rgnb.profiles import resolve_device
from rgnb.validate import check_choice


def train_main(argv: list[str] | None = None) -> int:
    """``python -m rgnb.mlp --profile reference [--device auto] [--ship results/reference]``.

    Trains every sweep of the profile (or reads it from the cache) and prints the gate; with
    ``--ship DIR`` writes the shipped results (:func:`export_shipped`) there.
    """
    parser = argparse.ArgumentParser(prog="python -m rgnb.mlp", description="train a profile's sweeps")
    parser.add_argument("--profile", default="reference", choices=["smoke", "reference", "full"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--family", action="append", help="train only these families (repeatable; a scan family "
                        "of rgnb.mlp.sweeps.SCAN too)")
    parser.add_argument("--scan", action="store_true", help="train the profile's P1 scan sweeps (rgnb.mlp.sweeps.SCAN)")
    parser.add_argument("--measure", action="store_true",
                        help="measure the shipped P1 networks of the profile (main and scan sweeps and the robustness reading, protocol v3) and, "
                             "with --ship, write the measurements beside the weights (rgnb.mlp.shipped_measurements)")
    parser.add_argument("--ship", default=None, help="write shipped results (npz + manifest) to this directory")
    args = parser.parse_args(argv)
    if args.measure:
        return measure_main(args.profile, args.ship)
    main, scan = _sweeps.sweeps_for(args.profile), _sweeps.scan_sweeps_for(args.profile)
    sweeps = {**main, **scan}
    families = args.family or list(scan if args.scan else main)
    device = resolve_device(args.device)
    results = {}
    for family in families:
        t0 = time.perf_counter()
        r = _train.run_sweep(sweeps[check_choice("family", family, tuple(sweeps))], device, progress=True)
        results[family] = r
        print(f"[train] {args.profile}/{family}: {len(r)} models in {time.perf_counter() - t0:.1f} s "
              f"(train {r.entry.meta.get('train_wall_time_s', float('nan')):.1f} s) on {device}"
              + (f", {r.entry.meta['torch_threads']} torch threads" if "torch_threads" in r.entry.meta else ""),
              flush=True)
    for row in _gate.gate_summary(results):
        print("[gate] " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
              flush=True)
    if args.ship:
        path = _shipped.export_shipped(results, args.ship, args.profile)
        print(f"[ship] wrote {path}", flush=True)
    return 0


def measure_main(profile: str, ship: str | None) -> int:
    """Measure every (chain, shuffled-chain) pair of the shipped profile and, with ``ship``, ship the measurements."""
    t0 = time.perf_counter()
    shipped = _shipped.load_shipped(profile)
    main = _sweeps.reading(shipped)
    scan = _shipped.load_scan(profile)
    measured = _evidence.measure_all(main, scan)
    configs = _evidence.configurations(measured)
    robust = _sweeps.reading(shipped, _sweeps.ROBUSTNESS_READING)
    if robust:
        configs.append(_evidence.measure_reading(robust, _evidence.ROBUST_FAMILY))
    print(f"[measure] {len(configs)} pairs in {time.perf_counter() - t0:.1f} s", flush=True)
    if ship:
        path = _sm.export_measurements([(c.family, c.chain, c.shuffled, c.measurements) for c in configs], ship)
        print(f"[ship] wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(train_main())
