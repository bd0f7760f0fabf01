"""Command line: ``python -m rgnb {execute,build,check-site,chapters,claims,pdf,bench} ...``.

Arguments and the ``RGNB_*`` environment variables (:mod:`rgnb.environment`, read once here and
passed down) are validated before anything runs: an unknown option, a bad ``--device``, a
non-positive or unbounded ``--timeout``, an unknown chapter or a bad variable exits with status 2
and a message naming it, without touching any notebook.
"""

from __future__ import annotations

import argparse
import os
import importlib
import sys
from pathlib import Path

#: Benchmarks: module holding ``benchmark_main(argv)``, and whether it takes options (one that takes
#: none refuses any argument here, since it would silently ignore it).
BENCHMARKS = {"train": ("rgnb.mlp.bench", True), "eft": ("rgnb.eft", True), "rg": ("rgnb.rg", False)}


def _timeout(text: str) -> float:
    from rgnb.execute import MAX_TIMEOUT_S
    from rgnb.validate import check_float

    try:
        return check_float("--timeout", float(text), 0.0, MAX_TIMEOUT_S, low_open=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rgnb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("execute", help="execute chapters through papermill and write the run report")
    ex.add_argument("--profile", default="auto", choices=["smoke", "reference", "full", "auto"])
    ex.add_argument("--chapter", action="append", help="chapter name (repeatable); default: all, in book order")
    ex.add_argument("--device", default=None, help="force a device for every chapter (cpu, cuda, cuda:N, auto)")
    ex.add_argument("--timeout", type=_timeout, default=None,
                    help="per-chapter wall-clock limit in seconds, in (0, 172800]")
    ex.add_argument("--store", action="store_true",
                    help="maintainers: store the run into book/ (reference, full); refused on a dirty git tree")
    ex.add_argument("--allow-dirty", action="store_true", help="with --store: store even from a dirty tree")
    ex.add_argument("--root", default=None, help=argparse.SUPPRESS)  # another checkout (tests)
    bd = sub.add_parser("build", help="build the HTML from the executed notebooks (no execution), -W -n")
    bd.add_argument("--publish", action="store_true",
                    help="a build to publish: refused while _config.yml's repository url is the placeholder")
    sub.add_parser("check-site", help="check every chapter page exists, has figures and shows no errors")
    sub.add_parser("chapters", help="list the chapters in book order")
    sub.add_parser("pdf", add_help=False,
                   help="the whole book as one PDF (single-page HTML printed by headless Chromium): pdf [--no-build]")
    sub.add_parser("claims", add_help=False,
                   help="print a run's claims ledger: claims [--run-dir DIR] [--json]; claims register [--what TEXT]")
    bench = sub.add_parser("bench", help="run a benchmark: " + ", ".join(BENCHMARKS))
    bench.add_argument("name", choices=sorted(BENCHMARKS))
    bench.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    from rgnb import environment

    try:
        settings = environment.read()
    except environment.SettingError as exc:
        parser.error(str(exc))
    if argv[:1] == ["claims"]:  # its own parser: claims [--run-dir DIR] [--json] | claims register ...
        from rgnb import claims
        return claims.main(argv[1:], settings)
    if argv[:1] == ["pdf"]:  # its own parser: pdf [--no-build] [--out PATH]
        from rgnb.site import pdf
        return pdf.main(argv[1:])
    args = parser.parse_args(argv)

    from rgnb import execute

    if args.command == "bench":
        takes_options = BENCHMARKS[args.name][1]
        if args.args and not takes_options:
            parser.error(f"bench {args.name} takes no arguments, got {args.args}")
    if args.command == "execute":
        try:
            execute.validate_options(args.device, args.timeout, settings)
            names = execute.chapters(Path(args.root) / "_toc.yml") if args.root else execute.chapters()
            unknown = sorted(set(args.chapter or []) - set(names))
            if unknown:
                raise ValueError(f"chapter must be one of {names}, got {unknown}")
            from rgnb.profiles import resolve_profile

            execute.check_store(resolve_profile(args.profile, settings), Path(args.root) if args.root else
                                execute.REPO_ROOT, args.store, args.allow_dirty)
        except ValueError as exc:
            parser.error(str(exc))
    execute.set_writable_dirs()
    if args.command == "execute":
        root = Path(args.root) if args.root else execute.REPO_ROOT
        return execute.execute(args.profile, args.chapter, args.device, args.timeout, root=root,
                               store=args.store, allow_dirty=args.allow_dirty, settings=settings)
    if args.command == "build":
        if args.publish:
            from rgnb.site.repository import check_publishable

            try:
                check_publishable()
            except ValueError as exc:
                print(f"[rgnb] {exc}", file=sys.stderr)
                return 2
        return execute.build()
    if args.command == "check-site":
        from rgnb.site import static
        problems = static.check_built_pages()
        for p in problems:
            print(f"[rgnb] site problem: {p}", file=sys.stderr)
        print(f"[rgnb] site check: {len(execute.chapters())} chapters, {len(problems)} problems")
        from rgnb import site
        browser_rc = site.main(["--require-browser"] if os.environ.get("CI") else [])
        return 1 if problems or browser_rc == 1 else browser_rc
    if args.command == "chapters":
        print("\n".join(execute.chapters()))
        return 0
    module = importlib.import_module(BENCHMARKS[args.name][0])
    return int(module.benchmark_main(args.args) or 0)


if __name__ == "__main__":
    sys.exit(main())
