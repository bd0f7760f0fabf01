"""pytest configuration for ``pytest --nbval ... book/`` (re-executing the stored chapter notebooks).

- Kernels record their run metadata and claims in a fresh temporary run directory
  (``RGNB_RUN_DIR``, set here before any kernel starts and inherited by every kernel), seeded with
  a copy of the stored ``book/_run/``: re-execution never rewrites ``book/_run/`` or any other
  committed file, and a chapter collected alone still finds the ledger the intro/appendix read.
- Notebooks run in book order (``_toc.yml``) with the ledger readers (intro, appendix) last, so
  they summarise the claims computed in this very session, whatever order the files were named in.
- At the end of the session two checks fail it: every claims ledger the kernels computed must be
  byte-identical to the committed ``book/_run/<chapter>.claims.json`` (one truth per result; skipped,
  with a note, when ``RGNB_PROFILE`` re-executes at another scale), and no tracked file may have
  changed: their contents are hashed before and after (a file already dirty and changed again counts).
- The ``RGNB_*`` variables are read and validated once, before any kernel starts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from rgnb import environment, reproduction
from rgnb.execute import LEDGER_READERS  # chapters that read every chapter's claims: run last

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent


def _toc_order() -> list[str]:
    try:
        from rgnb.execute import chapters

        return chapters(ROOT / "_toc.yml")
    except Exception:  # noqa: BLE001 - ordering is a convenience; never block collection on it
        return []


def tracked_hashes(root: Path = ROOT) -> dict[str, str]:
    """SHA-256 of every tracked file's contents (``git ls-files``; a deleted file hashes as ``missing``);
    empty when git is unavailable."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, timeout=60,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    hashes = {}
    for name in filter(None, out.decode().split("\0")):
        path = Path(root) / name
        hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
    return hashes


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Tracked files whose contents differ between two :func:`tracked_hashes` snapshots."""
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def ledger_problems(run: Path, settings: environment.Settings, stored: Path = BOOK / "_run") -> list[str]:
    """Ledgers computed in ``run`` that differ from the committed ones (none checked at another profile)."""
    if settings.profile not in (None, "reference"):
        return []
    return reproduction.ledger_mismatches(stored, run)


def isolate_run_dir(settings: environment.Settings | None = None) -> Path:
    """Point ``RGNB_RUN_DIR`` at a temp copy of ``book/_run`` (unless the caller chose one); returns it."""
    settings = environment.settings_or_read(settings)
    if settings.nbval_run_dir is not None:
        return settings.nbval_run_dir
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
    try:
        config._rgnb_settings = environment.read()  # validated before any kernel starts
    except environment.SettingError as exc:
        raise pytest.UsageError(str(exc)) from None
    config._rgnb_run_dir = isolate_run_dir(config._rgnb_settings)  # before collection, so before any kernel
    config._rgnb_tracked_before = tracked_hashes()


def pytest_collection_modifyitems(session, config, items):
    order = _toc_order()
    first_seen = {}
    for index, item in enumerate(items):
        first_seen.setdefault(str(item.fspath), index)
    # Stable sort: each notebook's cells stay together and in their own order.
    items.sort(key=lambda item: (sort_key(Path(str(item.fspath)), order), first_seen[str(item.fspath)]))


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    before = getattr(config, "_rgnb_tracked_before", None)
    if before is None:
        return
    messages = []
    changed = changed_files(before, tracked_hashes())
    if changed:
        messages.append("nbval re-execution changed committed files:\n  " + "\n  ".join(changed))
    settings = config._rgnb_settings
    stale = ledger_problems(Path(config._rgnb_run_dir), settings)
    if stale:
        messages.append("claims ledgers computed by this re-execution differ from the committed ones (re-execute "
                        "and store the chapter: python -m rgnb execute --profile reference --store --chapter "
                        "NAME):\n  " + "\n  ".join(stale))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if settings.profile not in (None, "reference") and reporter is not None:
        reporter.write_line(f"ledger comparison skipped: RGNB_PROFILE={settings.profile} re-executes at another scale")
    if messages:
        if reporter is not None:
            for message in messages:
                reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    run = getattr(config, "_rgnb_run_dir", None)
    if run is not None and Path(run).name.startswith("rgnb-nbval-run-") and \
            environment.read().nbval_run_dir == Path(run):  # the directory this file made
        shutil.rmtree(run, ignore_errors=True)
        del os.environ["RGNB_NBVAL_RUN_DIR"]
