"""Execute the book's chapters through papermill, write the run report, build the HTML (its static scan is
:mod:`rgnb.site.static`).

Chapters are the jupytext sources ``book/<name>.py`` in the order ``_toc.yml`` gives; each is
executed in a fresh kernel, sequentially, under a per-chapter wall-clock limit. Where a run
writes (:func:`output_dirs`): a reader's run of any profile to ``_build/runs/<profile>/<name>.ipynb``
and ``_build/runs/<profile>/_run/`` (never ``book/``), followed by a reproduction report against the
stored ledger (:mod:`rgnb.reproduction`). Storing is the maintainer's explicit step (``store=True``,
``--store``), refused on a git tree with uncommitted changes to tracked files unless ``allow_dirty``:

- ``reference`` (the stored book): ``book/<name>.ipynb`` and the run directory ``book/_run/``;
- ``full``: ``book/full/<name>.ipynb`` and ``book/_run/full/``;
- ``smoke`` is never stored (``_build/runs/smoke/`` either way).

``RGNB_RUN_DIR``, when set, replaces the run directory. Each kernel gets its own temporary and
Jupyter runtime directory (its connection file), removed even when the run is killed (SIGKILL: by the
next run). Each chapter is executed into a temporary
file beside its destination, and its kernel records provenance and claims in a staging copy of the
run directory (``RGNB_RUN_DIR`` in the kernel); notebook and records replace the stored ones
(``os.replace``, atomic) only when the chapter succeeded, so a failing, timed-out or killed chapter
leaves the stored notebook and run records byte-identical. The run directory's ``report.json``
lists the chapters whose notebooks are stored; a run that fails or is killed writes its own
report, with that chapter's status (``failed``, ``timeout``, ``killed``), to
``_build/failed/<profile>/report.json`` together with the errored notebook. A failing chapter stops
the run, prints the failing cell and exits 1. SIGINT or SIGTERM ends papermill and the kernel (their
whole process groups), removes the temporary files and exits with ``128 + signal``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from rgnb.environment import Settings, settings_or_read
from rgnb.layout import REPO_ROOT, chapters
from rgnb.processes import kill_tree as _kill_tree
from rgnb.processes import pid_alive

BOOK_DIR = REPO_ROOT / "book"
TIMEOUTS_S = {"smoke": 900, "reference": 3600, "full": 4 * 3600}
#: Longest per-chapter limit accepted (``--timeout``), seconds.
MAX_TIMEOUT_S = 48 * 3600
#: Chapters that read the other chapters' claims ledger: executed after every other chapter.
LEDGER_READERS = ("intro", "appendix")
#: Seconds a killed papermill/kernel gets to exit after SIGTERM before SIGKILL.


def stored_dirs(profile: str, root: Path = REPO_ROOT) -> tuple[Path, Path]:
    """``(notebook directory, run directory)`` of a resolved profile's stored run (smoke: never ``book/``)."""
    from rgnb.validate import check_choice

    profile = check_choice("profile", profile, ("smoke", "reference", "full"))
    root = Path(root)
    return {"reference": (root / "book", root / "book" / "_run"),
            "full": (root / "book" / "full", root / "book" / "_run" / "full"),
            "smoke": (root / "_build" / "runs" / "smoke", root / "_build" / "runs" / "smoke" / "_run")}[profile]


def output_dirs(profile: str, root: Path = REPO_ROOT, *, store: bool = False,
                settings: Settings | None = None) -> tuple[Path, Path]:
    """``(notebook directory, run directory)`` a run writes to: the stored place with ``store``, else
    ``_build/runs/<profile>/`` (``RGNB_RUN_DIR`` replaces the run directory either way)."""
    nb_dir, run = stored_dirs(profile, root)
    if not store:
        nb_dir = Path(root) / "_build" / "runs" / profile
        run = nb_dir / "_run"
    override = settings_or_read(settings).run_dir
    return nb_dir, (override if override is not None else run)


def dirty_files(root: Path = REPO_ROOT) -> list[str]:
    """Tracked files with uncommitted changes (``git status --porcelain`` lines); refuses where git cannot tell."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ValueError(f"--store needs a git checkout to check it is clean ({exc}); use --allow-dirty") from None
    return out.splitlines()


@dataclasses.dataclass
class ChapterReport:
    chapter: str
    status: str  # "ok", "failed", "timeout", "killed"
    wall_s: float
    profile: str
    device: str
    error: str = ""


class Interrupted(BaseException):
    """Raised in the main thread when ``execute`` receives SIGINT or SIGTERM."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def failing_cell(path: Path) -> str:
    """The first cell of an executed notebook with an error output: its source and traceback."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook has no cell to show
        return ""
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = _ANSI.sub("", "\n".join(out.get("traceback", [])))
                return (f"failing cell #{index} (execution count {cell.get('execution_count')}):\n"
                        f"{cell.source}\n--- {out.get('ename')}: {out.get('evalue')}\n{trace}")
    return ""


def _hide_injected_parameters(path: Path) -> None:
    """Tag papermill's injected cell ``remove-cell`` so the rendered book hides it."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def _kernel_runtime_dir() -> Path:
    """A fresh Jupyter runtime directory for one kernel (its connection file), named by our pid;
    those left by a run killed with SIGKILL are swept first."""
    base = Path(tempfile.gettempdir())
    for path in base.glob("rgnb-kernel-*"):
        parts = path.name.split("-")
        if len(parts) > 3 and parts[2].isdigit() and not pid_alive(int(parts[2])):
            shutil.rmtree(path, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"rgnb-kernel-{os.getpid()}-"))


def _sweep_stale_temp_notebooks(directory: Path) -> None:
    """Remove ``.<chapter>.<pid>.*.ipynb.tmp`` files whose writer is dead (a run killed by SIGKILL)."""
    for path in directory.glob(".*.ipynb.tmp"):
        parts = path.name.split(".")
        if len(parts) > 3 and parts[2].isdigit() and not pid_alive(int(parts[2])):
            path.unlink(missing_ok=True)


def _run_one(name: str, profile: str, device: str | None, timeout_s: float, book_dir: Path, nb_dir: Path,
             run: Path, failed_dir: Path) -> ChapterReport:
    """Execute one chapter into a temp file; replace ``nb_dir/<name>.ipynb`` only on success."""
    import jupytext
    import nbformat

    src = book_dir / f"{name}.py"
    final = nb_dir / f"{name}.ipynb"
    nb_dir.mkdir(parents=True, exist_ok=True)
    _sweep_stale_temp_notebooks(nb_dir)
    # The kernel records provenance and claims in a staging copy of the run directory (so the
    # ledger readers still see every chapter); it is promoted only with the notebook.
    staging = Path(tempfile.mkdtemp(prefix=f"rgnb-run-{name}-"))
    if run.is_dir():
        for path in run.iterdir():
            if path.is_file() and not path.name.startswith("."):
                shutil.copy2(path, staging / path.name)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".ipynb.tmp", dir=nb_dir)
    os.close(fd)
    tmp_out = Path(tmp_name)
    runtime = _kernel_runtime_dir()
    proc = None
    start = time.perf_counter()
    status, error = "failed", ""
    try:
        with tempfile.TemporaryDirectory(prefix="rgnb-execute-") as tmp:
            nb_in = Path(tmp) / f"{name}.ipynb"
            nbformat.write(jupytext.read(src), nb_in)
            cmd = [sys.executable, "-m", "papermill", str(nb_in), str(tmp_out), "-p", "profile", profile,
                   "--cwd", str(book_dir), "-k", "python3", "--no-progress-bar", "--log-level", "WARNING"]
            if device is not None:
                cmd += ["-p", "device", device]
            env = dict(os.environ, RGNB_RUN_DIR=str(staging))
            # The kernel's connection file (a tempfile of papermill's) and any runtime file: removed below.
            env.update(TMPDIR=str(runtime), JUPYTER_RUNTIME_DIR=str(runtime))
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                    start_new_session=True)
            try:
                _, stderr = proc.communicate(timeout=timeout_s)
                if proc.returncode == 0:
                    status = "ok"
                else:
                    status, error = "failed", (failing_cell(tmp_out) or stderr[-6000:])
            except subprocess.TimeoutExpired:
                _kill_tree(proc)
                status, error = "timeout", f"chapter exceeded its {timeout_s:g} s limit"
            if status == "ok":
                _hide_injected_parameters(tmp_out)
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
                try:  # promote the run records, then the notebook; a signal waits until both are in place
                    _promote(staging, run)
                    os.replace(tmp_out, final)  # atomic: the stored notebook is old or new, never partial
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            elif status == "failed" and tmp_out.exists() and tmp_out.stat().st_size:
                failed_dir.mkdir(parents=True, exist_ok=True)
                shutil.move(str(tmp_out), failed_dir / f"{name}.ipynb")
                error += f"\n(the errored notebook: {failed_dir / f'{name}.ipynb'})"
    finally:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:  # a second Ctrl-C must not interrupt the clean-up
            if proc is not None:
                _kill_tree(proc)
            tmp_out.unlink(missing_ok=True)
            record = staging / f"{name}.provenance.json"
            dev = json.loads(record.read_text()).get("device_name", "unknown") if record.exists() else "unknown"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(runtime, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    wall = time.perf_counter() - start
    return ChapterReport(name, status, round(wall, 1), profile, dev, error)


def _promote(staging: Path, run: Path) -> None:
    """Copy the files a chapter wrote or changed in ``staging`` into ``run``, each by atomic replace."""
    run.mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.iterdir()):
        if not path.is_file():
            continue
        target = run / path.name
        if target.is_file() and target.read_bytes() == path.read_bytes():
            continue
        tmp = run / f".{path.name}.tmp-{os.getpid()}"
        shutil.copy2(path, tmp)
        os.replace(tmp, target)


def write_report(reports: list[ChapterReport], profile: str, directory: Path | None = None) -> Path:
    """Write ``report.json`` and ``report.md`` (atomically) to the run directory; returns the Markdown path."""
    from rgnb.provenance import run_dir

    directory = Path(directory) if directory is not None else run_dir()
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["| chapter | status | wall time (s) | device | profile |", "|---|---|---|---|---|"]
    lines += [f"| {r.chapter} | {r.status} | {r.wall_s:.1f} | {r.device} | {r.profile} |" for r in reports]
    for path, text in ((directory / "report.json", json.dumps(
            {"profile": profile, "chapters": [dataclasses.asdict(r) for r in reports]}, indent=2) + "\n"),
                       (directory / "report.md", "\n".join(lines) + "\n")):
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(text)
        os.replace(tmp, path)
    return directory / "report.md"


def check_store(profile: str, root: Path, store: bool, allow_dirty: bool) -> None:
    """Refuse ``--store`` of a smoke run, and from a git tree with uncommitted tracked changes unless ``allow_dirty``."""
    if not store:
        if allow_dirty:
            raise ValueError("--allow-dirty only applies with --store")
        return
    if profile == "smoke":
        raise ValueError("--store writes a reference or full run into book/; a smoke run is never stored")
    dirty = [] if allow_dirty else dirty_files(root)
    if dirty:
        raise ValueError("--store refuses a git tree with uncommitted changes to tracked files (commit them, "
                         f"or pass --allow-dirty), {len(dirty)} file(s):\n  " + "\n  ".join(dirty[:20]))


def validate_options(device: str | None, timeout_s: float | None, settings: Settings | None = None) -> None:
    """Refuse a bad ``device`` or ``timeout_s``, or an ``RGNB_DEVICE`` this machine lacks, before any notebook
    is touched (ValueError naming the option or variable)."""
    from rgnb.profiles import DEVICES, resolve_device
    from rgnb.validate import check_choice, check_float

    settings = settings_or_read(settings)
    if timeout_s is not None:
        check_float("timeout", timeout_s, 0.0, MAX_TIMEOUT_S, low_open=True)
    if device is not None:
        kind, _, index = str(device).partition(":")
        check_choice("device", kind, DEVICES)
        if index and not (kind == "cuda" and index.isdigit()):
            raise ValueError(f"device must be one of {DEVICES} (optionally 'cuda:N'), got {device!r}")
        resolve_device(device, Settings())  # e.g. cuda requested where there is none (RGNB_DEVICE aside)
    if settings.device is not None:
        try:
            resolve_device(settings.device, Settings())
        except ValueError as exc:
            raise ValueError(f"RGNB_DEVICE={settings.device!r}: {exc}") from None


def execute(profile: str = "auto", selected: list[str] | None = None, device: str | None = None,
            timeout_s: float | None = None, *, root: Path = REPO_ROOT, store: bool = False,
            allow_dirty: bool = False, settings: Settings | None = None) -> int:
    """Execute chapters in book order; returns a process exit code.

    ``root`` is the repository (``_toc.yml``, ``book/``, ``_build/``). 0: every chapter ran;
    1: a chapter failed or timed out; ``128 + signal`` when interrupted (SIGINT, SIGTERM).
    ``store``: write into the stored book (reference, full), refused on a dirty tree unless ``allow_dirty``;
    otherwise the run goes to ``_build/runs/<profile>/`` and ends with the reproduction report.
    Bad ``profile``, ``device``, ``timeout_s``, chapter names or ``RGNB_*`` variables raise ``ValueError``
    before anything runs.
    """
    from rgnb.profiles import resolve_profile

    root = Path(root)
    settings = settings_or_read(settings)
    validate_options(device, timeout_s, settings)
    resolved = resolve_profile(profile, settings)
    check_store(resolved, root, store, allow_dirty)
    names = chapters(root / "_toc.yml")
    if selected:
        unknown = sorted(set(selected) - set(names))
        if unknown:
            raise ValueError(f"chapter must be one of {names}, got {unknown}")
        names = [n for n in names if n in selected]
    names = [n for n in names if n not in LEDGER_READERS] + [n for n in names if n in LEDGER_READERS]
    missing = [n for n in names if not (root / "book" / f"{n}.py").exists()]
    if missing:
        raise ValueError(f"chapter sources missing: {[f'book/{n}.py' for n in missing]}")
    limit = timeout_s if timeout_s is not None else TIMEOUTS_S[resolved]
    nb_dir, run = output_dirs(resolved, root, store=store, settings=settings)
    failed_dir = root / "_build" / "failed" / resolved
    # The appendix summarises this run: keep earlier chapters' rows when only some are re-run.
    previous = {}
    report_path = run / "report.json"  # the stored report: chapters whose notebooks are stored
    if selected and report_path.exists():
        previous = {r["chapter"]: ChapterReport(**r) for r in json.loads(report_path.read_text())["chapters"]}
    reports: dict[str, ChapterReport] = dict(previous)
    order = chapters(root / "_toc.yml")

    def handler(signum, frame):
        raise Interrupted(signum)

    installed = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            installed[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    current = None
    started = time.perf_counter()
    try:
        for name in names:
            current, started = name, time.perf_counter()
            print(f"[rgnb] executing {name} (profile {resolved}, limit {limit:g} s) -> {nb_dir}", flush=True)
            rep = _run_one(name, resolved, device, limit, root / "book", nb_dir, run, failed_dir)
            current = None
            reports[name] = rep
            # The stored run report lists stored chapters only; a failed run's report goes to _build/failed.
            write_report([reports[n] for n in order if n in reports], resolved, run if rep.status == "ok" else failed_dir)
            print(f"[rgnb] {name}: {rep.status} in {rep.wall_s:.1f} s on {rep.device}", flush=True)
            if rep.status != "ok":
                print(f"\n[rgnb] CHAPTER FAILED: {name} ({rep.status})\n{rep.error}\n[rgnb] this run's report: "
                      f"{failed_dir / 'report.md'}; stored notebooks and {run} unchanged for {name}",
                      file=sys.stderr, flush=True)
                return 1
    except Interrupted as stop:
        if current is not None:
            reports[current] = ChapterReport(current, "killed", round(time.perf_counter() - started, 1), resolved,
                                             "unknown", f"interrupted by signal {stop.signum}")
        write_report([reports[n] for n in order if n in reports], resolved, failed_dir)
        print(f"\n[rgnb] INTERRUPTED (signal {stop.signum}) while executing {current}: its stored notebook and "
              f"run records unchanged; this run's report: {failed_dir / 'report.md'}", file=sys.stderr, flush=True)
        return 128 + stop.signum
    finally:
        for sig, old in installed.items():
            signal.signal(sig, old)
    print((run / "report.md").read_text())
    if not store and resolved != "smoke":
        print(reproduction_report(root, resolved, run, names), flush=True)
    return 0


def reproduction_report(root: Path, profile: str, run: Path, names: list[str]) -> str:
    """Compare this run's ledgers with the stored ones; write ``reproduction.md`` beside them and return it."""
    from rgnb import reproduction

    rep = reproduction.compare_runs(stored_dirs(profile, root)[1], run, names)
    text = reproduction.report_markdown(rep)
    (run / "reproduction.md").write_text(text)
    return text


def build(root: Path = REPO_ROOT) -> int:
    """Build the HTML from the executed notebooks (no execution), warnings as errors; returns the exit code."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(root), "-W", "-n", "--keep-going"]
    return subprocess.run(cmd, cwd=root).returncode


def set_writable_dirs() -> None:
    """Point matplotlib and Jupyter at writable temp dirs when unset (CI, read-only homes)."""
    base = Path(tempfile.gettempdir()) / "rgnb-dirs"
    for var, sub in (("MPLCONFIGDIR", "mpl"), ("JUPYTER_CONFIG_DIR", "jupyter-config"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython")):
        if not os.environ.get(var):
            (base / sub).mkdir(parents=True, exist_ok=True)
            os.environ[var] = str(base / sub)


__all__ = ["chapters", "output_dirs", "stored_dirs", "dirty_files", "check_store", "reproduction_report", "execute", "build",
           "failing_cell",
           "write_report", "validate_options", "ChapterReport", "TIMEOUTS_S"]
