"""pytest configuration for ``pytest --nbval ... book/`` (re-executing the stored chapter notebooks).

- Kernels record their run metadata and claims in a fresh temporary run directory
  (``RGNB_RUN_DIR``, set here before any kernel starts and inherited by every kernel), seeded with
  a copy of the stored ``book/_run/``: re-execution never rewrites ``book/_run/`` or any other
  committed file, and a chapter collected alone still finds the ledger the intro/appendix read.
- Notebooks run in book order (``_toc.yml``) with the ledger readers (intro, appendix) last, so
  they summarise the claims computed in this very session, whatever order the files were named in.
- At the end of the session the committed files are checked: if re-execution changed any tracked
  file, the session fails and names it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
#: Chapters whose cells read every chapter's claims: executed after all the others.
LEDGER_READERS = ("intro", "appendix")


def _toc_order() -> list[str]:
    try:
        from rgnb.execute import chapters

        return chapters(ROOT / "_toc.yml")
    except Exception:  # noqa: BLE001 - ordering is a convenience; never block collection on it
        return []


def _tracked_changes() -> set[str]:
    """``git status`` lines of tracked files (empty when git is unavailable)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return set(out.splitlines())


def isolate_run_dir() -> Path:
    """Point ``RGNB_RUN_DIR`` at a temp copy of ``book/_run`` (unless the caller chose one); returns it."""
    if os.environ.get("RGNB_NBVAL_RUN_DIR"):
        return Path(os.environ["RGNB_NBVAL_RUN_DIR"])
    run = Path(tempfile.mkdtemp(prefix="rgnb-nbval-run-"))
    stored = BOOK / "_run"
    if stored.is_dir():
        for path in stored.iterdir():
            if path.is_file():
                shutil.copy2(path, run / path.name)
    os.environ["RGNB_RUN_DIR"] = str(run)
    os.environ["RGNB_NBVAL_RUN_DIR"] = str(run)
    return run


def sort_key(path: Path, order: list[str]) -> tuple[int, int, str]:
    """Book order, ledger readers last, unknown notebooks at the end (by name)."""
    stem = Path(path).stem
    position = order.index(stem) if stem in order else len(order)
    return (stem in LEDGER_READERS, position, str(path))


def pytest_configure(config):
    config._rgnb_run_dir = isolate_run_dir()  # before collection, so before any kernel starts
    config._rgnb_tracked_before = _tracked_changes()


def pytest_collection_modifyitems(session, config, items):
    order = _toc_order()
    first_seen = {}
    for index, item in enumerate(items):
        first_seen.setdefault(str(item.fspath), index)
    # Stable sort: each notebook's cells stay together and in their own order.
    items.sort(key=lambda item: (sort_key(Path(str(item.fspath)), order), first_seen[str(item.fspath)]))


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_rgnb_tracked_before", None)
    if before is None:
        return
    changed = sorted(_tracked_changes() - before)
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "nbval re-execution changed committed files:\n  " + "\n  ".join(changed)
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    run = getattr(config, "_rgnb_run_dir", None)
    if run is not None and Path(run).name.startswith("rgnb-nbval-run-") and \
            os.environ.get("RGNB_NBVAL_RUN_DIR") == str(run):
        shutil.rmtree(run, ignore_errors=True)
        del os.environ["RGNB_NBVAL_RUN_DIR"]
