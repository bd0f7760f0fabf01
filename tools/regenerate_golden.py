"""Rewrite the golden arrays of the numerics contract (``tests/golden/``): ``python tools/regenerate_golden.py``.

Refuses unless ``rgnb.mlp.train.NUMERICS_VERSION`` differs from the version the stored arrays were made
under: new numbers need a new version, which makes every shipped weight file of the old version
refuse to load until it is retrained (``python -m rgnb.mlp --profile reference --ship results/reference``).
With ``--check`` it only retrains and compares (exit 1 when any array differs). With ``--add-machine`` it
stores this machine kind's bits beside the others (same version; refused unless the losses agree).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rgnb.mlp import golden, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/regenerate_golden.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="retrain and compare only; write nothing")
    parser.add_argument("--add-machine", action="store_true", help="store this machine kind's golden arrays")
    parser.add_argument("--directory", type=Path, default=golden.GOLDEN_DIR)
    args = parser.parse_args(argv)
    if args.add_machine:
        try:
            target = golden.add_machine(args.directory)
        except ValueError as exc:
            print(f"[golden] refused: {exc}", file=sys.stderr)
            return 2
        print(f"[golden] {golden.machine_kind()}: written to {target}")
        return 0
    here = golden.kinds(args.directory).get(golden.machine_kind(), args.directory) if (
        args.directory / golden.MANIFEST).is_file() else args.directory
    differences = {}
    if (args.directory / golden.MANIFEST).is_file():
        for family in golden.families():
            lines = golden.compare(golden.stored(family, here), golden.train_golden(family))
            if lines:
                differences[family] = lines
                print(f"[golden] {family}: " + "; ".join(lines))
        stored_version = golden.manifest(args.directory)["numerics_version"]
    else:
        stored_version = None
    if args.check:
        print(f"[golden] {len(differences)} of {len(golden.families())} families differ")
        return 1 if differences else 0
    if stored_version == train.NUMERICS_VERSION:
        print(f"[golden] refused: the stored arrays are numerics version {stored_version}, the code's version too. "
              "Bump rgnb.mlp.train.NUMERICS_VERSION first (new numbers are a new version)"
              + ("" if differences else "; nothing differs anyway"), file=sys.stderr)
        return 2
    golden.write(args.directory)
    print(f"[golden] written: numerics version {train.NUMERICS_VERSION}, {len(golden.families())} families, "
          f"in {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
