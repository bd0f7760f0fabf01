"""The stored runs' claims rows, per profile, for the pages that show every ledger (intro, appendix)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from rgnb.site.paths import REPO_ROOT, RUN_DIR


def profile_run_dirs() -> dict[str, Path]:
    """Where each scale's stored run lives: ``reference`` in ``book/_run``, ``full`` in ``book/_run/full``.

    While a chapter executes with ``RGNB_RUN_DIR`` set (papermill, nbval's temp copy), that directory
    stands for the current profile's run.
    """
    from rgnb.environment import read

    dirs = {"reference": RUN_DIR, "full": RUN_DIR / "full"}
    current = read().run_dir
    if current:  # the run being executed stands for its profile; the other profile's run stays the stored one
        dirs["full" if Path(current).name == "full" else "reference"] = Path(current)
    return dirs


def load_ledgers(run_dirs: dict[str, Path] | None = None) -> tuple[dict[str, list], list[str]]:
    """Every stored run's claims rows, keyed by the profile the rows were computed at, and notes.

    Reads each directory through ``rgnb.claims.load_ledger``; chapters whose claims file is still
    the legacy schema (not yet re-executed) are left out and named in the notes, never guessed.
    A directory labelled ``reference`` that holds ``smoke`` rows is shown as ``smoke``.
    """
    from rgnb import claims

    run_dirs = profile_run_dirs() if run_dirs is None else run_dirs
    ledgers: dict[str, list] = {}
    notes: list[str] = []
    for label, directory in run_dirs.items():
        directory = Path(directory)
        files = sorted(directory.glob("*.claims.json")) if directory.is_dir() else []
        if not files:
            notes.append(f"No `{label}` run is stored (`{_shown(directory)}` holds no claims).")
            continue
        legacy = []
        with tempfile.TemporaryDirectory(prefix="rgnb-ledger-") as tmp:
            for f in files:
                data = json.loads(f.read_text())
                if isinstance(data, dict) and data.get("schema") == claims.SCHEMA:
                    shutil.copyfile(f, Path(tmp) / f.name)
                else:
                    legacy.append(f.name.removesuffix(".claims.json"))
            rows = claims.load_ledger(tmp)
        if legacy:
            notes.append(f"In `{_shown(directory)}`, chapter(s) {', '.join(legacy)} still hold claims of the "
                         f"old format: re-execute them to see their rows here.")
        for row in rows:
            ledgers.setdefault(row.profile, []).append(row)
    return ledgers, notes


def _shown(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
