"""Command line: ``python -m rgnb {execute,build,check-site,bench} ...``."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {"train": "rgnb.train", "eft": "rgnb.eft", "rg": "rgnb.rg"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m rgnb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("execute", help="execute chapters through papermill and write the run report")
    ex.add_argument("--profile", default="auto", choices=["smoke", "reference", "full", "auto"])
    ex.add_argument("--chapter", action="append", help="chapter name (repeatable); default: all, in book order")
    ex.add_argument("--device", default=None, help="force a device for every chapter (cpu, cuda, auto)")
    ex.add_argument("--timeout", type=float, default=None, help="per-chapter wall-clock limit in seconds")
    sub.add_parser("build", help="build the HTML from the executed notebooks (no execution), -W -n")
    sub.add_parser("check-site", help="check every chapter page exists, has figures and shows no errors")
    sub.add_parser("chapters", help="list the chapters in book order")
    cl = sub.add_parser("claims", help="print the claims ledger of a run (table, or --json)")
    cl.add_argument("args", nargs=argparse.REMAINDER, help="--run-dir DIR, --json")
    bench = sub.add_parser("bench", help="run a benchmark: " + ", ".join(BENCHMARKS))
    bench.add_argument("name", choices=sorted(BENCHMARKS))
    bench.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    args = parser.parse_args(argv)

    from rgnb import execute

    execute.set_writable_dirs()
    if args.command == "execute":
        return execute.execute(args.profile, args.chapter, args.device, args.timeout)
    if args.command == "build":
        return execute.build()
    if args.command == "check-site":
        problems = execute.check_site()
        for p in problems:
            print(f"[rgnb] site problem: {p}", file=sys.stderr)
        print(f"[rgnb] site check: {len(execute.chapters())} chapters, {len(problems)} problems")
        return 1 if problems else 0
    if args.command == "claims":
        from rgnb import claims
        return claims.main(args.args)
    if args.command == "chapters":
        print("\n".join(execute.chapters()))
        return 0
    module = importlib.import_module(BENCHMARKS[args.name])
    return int(module.benchmark_main(args.args) or 0)


if __name__ == "__main__":
    sys.exit(main())
