"""Mutation testing over the verdict-building code: ``python tools/mutate.py [options]``.

Reads every ``tools/mutants/*.toml``; each ``[[mutant]]`` names a ``file``, an ``old`` string that
must occur exactly once in it, its replacement ``new`` and the ``tests`` to run. For each mutant the
file is rewritten, ``python -m pytest -x -q <tests>`` runs, and the mutant counts as *killed* when
the tests fail (or time out). The original file is restored whatever happens (test failure, a
crash, Ctrl-C or SIGTERM). Prints a table (name, killed) and the mutation score; exits 0 when every
mutant was killed, 1 when some survived, 2 when a mutant is invalid (its ``old`` string is missing
or not unique) or its tests could not run (pytest exit 3, 4 or 5: a listed test that does not
exist never counts as a kill).

Options: ``--root DIR`` (repository to mutate, default: this one), ``--only TEXT`` (mutants whose
name or file contains TEXT), ``--timeout S`` (per mutant, default 900), ``--list``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: list[str]
    source: str  # the .toml it came from


@dataclasses.dataclass
class Result:
    mutant: Mutant
    status: str  # "killed", "survived", "timeout" (counts as killed), "invalid: ..."
    seconds: float


def read_mutants(root: Path) -> list[Mutant]:
    """Every mutant of every ``tools/mutants/*.toml`` under ``root``, in file order."""
    out = []
    for path in sorted((root / "tools" / "mutants").glob("*.toml")):
        data = tomllib.loads(path.read_text())
        for i, m in enumerate(data.get("mutant", [])):
            missing = [k for k in ("name", "file", "old", "new", "tests") if k not in m]
            if missing:
                raise ValueError(f"{path.name}: mutant {i} lacks {missing}")
            if not isinstance(m["tests"], list) or not m["tests"]:
                raise ValueError(f"{path.name}: mutant {m['name']!r}: tests must be a non-empty list")
            out.append(Mutant(m["name"], m["file"], m["old"], m["new"], list(m["tests"]), path.name))
    return out


class _Terminated(BaseException):
    pass


def _raise_terminated(signum, frame):  # SIGTERM -> unwind through the finally that restores the file
    raise _Terminated(signum)


def run_mutant(root: Path, m: Mutant, timeout_s: float) -> Result:
    """Apply one mutant, run its tests, restore the file; returns the result."""
    path = root / m.file
    start = time.perf_counter()
    if not path.is_file():
        return Result(m, f"invalid: no file {m.file}", 0.0)
    original = path.read_bytes()
    text = original.decode()
    count = text.count(m.old)
    if count != 1:
        return Result(m, f"invalid: old string occurs {count} times", 0.0)
    if m.old == m.new:
        return Result(m, "invalid: old == new", 0.0)
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *m.tests]
    proc = None
    try:
        path.write_text(text.replace(m.old, m.new, 1))
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout_s)
            # pytest: 0 passed, 1 tests failed, 2 interrupted (e.g. the mutant breaks collection),
            # 3 internal error, 4 usage error (e.g. a listed test does not exist), 5 no tests collected.
            status = {0: "survived", 1: "killed", 2: "killed"}.get(rc, f"error: pytest exit {rc}")
        except subprocess.TimeoutExpired:
            status = "timeout"
    finally:
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        path.write_bytes(original)
    return Result(m, status, time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/mutate.py", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository to mutate (default: this one)")
    parser.add_argument("--mutants", type=Path, default=None,
                        help="repository whose tools/mutants/*.toml to read (default: --root)")
    parser.add_argument("--only", default=None, help="run the mutants whose name, file or toml contains this")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant (default 900)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error(f"--timeout must be > 0, got {args.timeout}")
    root = args.root.resolve()
    mutants = read_mutants((args.mutants or root).resolve())
    if args.only:
        mutants = [m for m in mutants if args.only in m.name or args.only in m.file or args.only in m.source]
    if args.list:
        for m in mutants:
            print(f"{m.source}: {m.name} ({m.file})")
        return 0
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    results = []
    try:
        for m in mutants:
            r = run_mutant(root, m, args.timeout)
            results.append(r)
            print(f"[mutate] {r.status:9s} {r.seconds:6.1f} s  {m.name}", file=sys.stderr, flush=True)
    except (KeyboardInterrupt, _Terminated):
        print("[mutate] interrupted: files restored; partial table follows", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)
    width = max([len(r.mutant.name) for r in results] + [6])
    print(f"| {'mutant':{width}s} | file | killed |")
    print(f"|{'-' * (width + 2)}|---|---|")
    for r in results:
        killed = {"killed": "yes", "timeout": "yes (timeout)", "survived": "NO"}.get(r.status, r.status)
        print(f"| {r.mutant.name:{width}s} | {r.mutant.file} | {killed} |")
    valid = [r for r in results if not r.status.startswith(("invalid", "error"))]
    killed = sum(r.status in ("killed", "timeout") for r in valid)
    print(f"\nmutation score: {killed}/{len(valid)} killed"
          + (f" ({100 * killed / len(valid):.0f} %)" if valid else "")
          + (f"; {len(results) - len(valid)} invalid or not run" if len(valid) < len(results) else ""))
    if len(valid) < len(results):
        return 2
    return 0 if killed == len(valid) and len(results) == len(mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
