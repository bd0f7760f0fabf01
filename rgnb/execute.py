"""Execute the book's chapters through papermill, write the run report, build and check the HTML.

Chapters are the jupytext sources ``book/<name>.py`` in the order ``_toc.yml`` gives; each is
executed into its paired ``book/<name>.ipynb`` (the stored reference execution) in a fresh
kernel, sequentially, under a per-chapter wall-clock limit. A failing chapter stops the run,
prints the failing cell and exits non-zero.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from rgnb.provenance import REPO_ROOT, run_dir

BOOK_DIR = REPO_ROOT / "book"
TOC = REPO_ROOT / "_toc.yml"
HTML_DIR = REPO_ROOT / "_build" / "html"
TIMEOUTS_S = {"smoke": 900, "reference": 3600, "full": 4 * 3600}
#: Chapters that show no figure by design (checked by :func:`check_site`).
TEXT_ONLY = {"intro", "appendix"}


def chapters(toc: Path = TOC) -> list[str]:
    """Chapter names in book order, read from ``_toc.yml`` (entries ``book/<name>``)."""
    data = yaml.safe_load(toc.read_text())
    entries = [data["root"]]
    for part in data.get("parts", [data]):
        entries += [c["file"] for c in part.get("chapters", [])]
    return [Path(e).name for e in entries]


@dataclasses.dataclass
class ChapterReport:
    chapter: str
    status: str
    wall_s: float
    profile: str
    device: str
    error: str = ""


def _run_one(name: str, profile: str, device: str | None, timeout_s: float) -> ChapterReport:
    import jupytext
    import nbformat

    src = BOOK_DIR / f"{name}.py"
    out = BOOK_DIR / f"{name}.ipynb"
    if not src.exists():
        raise ValueError(f"chapter must be one of {chapters()}, got {name!r} (no {src})")
    with tempfile.TemporaryDirectory() as tmp:
        nb_in = Path(tmp) / f"{name}.ipynb"
        nbformat.write(jupytext.read(src), nb_in)
        cmd = [sys.executable, "-m", "papermill", str(nb_in), str(out), "-p", "profile", profile,
               "--cwd", str(BOOK_DIR), "-k", "python3", "--no-progress-bar", "--log-level", "WARNING"]
        if device is not None:
            cmd += ["-p", "device", device]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
            status, error = ("ok", "") if proc.returncode == 0 else ("failed", proc.stderr[-6000:])
        except subprocess.TimeoutExpired:
            status, error = "timeout", f"chapter exceeded its {timeout_s:.0f} s limit"
        wall = time.perf_counter() - start
    if out.exists():
        _hide_injected_parameters(out)
    record = run_dir() / f"{name}.provenance.json"
    dev = json.loads(record.read_text())["device_name"] if record.exists() else "unknown"
    return ChapterReport(name, status, round(wall, 1), profile, dev, error)


def _hide_injected_parameters(path: Path) -> None:
    """Tag papermill's injected cell ``remove-cell`` so the rendered book hides it."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def write_report(reports: list[ChapterReport], profile: str) -> Path:
    """Write ``report.json`` and ``report.md`` to the run directory; returns the Markdown path."""
    directory = run_dir()
    (directory / "report.json").write_text(json.dumps(
        {"profile": profile, "chapters": [dataclasses.asdict(r) for r in reports]}, indent=2) + "\n")
    lines = ["| chapter | status | wall time (s) | device | profile |", "|---|---|---|---|---|"]
    lines += [f"| {r.chapter} | {r.status} | {r.wall_s:.1f} | {r.device} | {r.profile} |" for r in reports]
    md = directory / "report.md"
    md.write_text("\n".join(lines) + "\n")
    return md


def execute(profile: str = "auto", selected: list[str] | None = None, device: str | None = None,
            timeout_s: float | None = None) -> int:
    """Execute chapters in book order; returns a process exit code (0 = all chapters ran)."""
    from rgnb.profiles import resolve_profile

    resolved = resolve_profile(profile)
    names = chapters()
    if selected:
        unknown = sorted(set(selected) - set(names))
        if unknown:
            raise ValueError(f"chapter must be one of {names}, got {unknown}")
        names = [n for n in names if n in selected]
    limit = timeout_s if timeout_s is not None else TIMEOUTS_S[resolved]
    # The appendix summarises this run: keep earlier chapters' rows when only some are re-run.
    previous = {}
    report_path = run_dir() / "report.json"
    if selected and report_path.exists():
        previous = {r["chapter"]: ChapterReport(**r) for r in json.loads(report_path.read_text())["chapters"]}
    reports: dict[str, ChapterReport] = dict(previous)
    for name in names:
        print(f"[rgnb] executing {name} (profile {resolved}, limit {limit:.0f} s) ...", flush=True)
        rep = _run_one(name, resolved, device, limit)
        reports[name] = rep
        write_report([reports[n] for n in chapters() if n in reports], resolved)
        print(f"[rgnb] {name}: {rep.status} in {rep.wall_s:.1f} s on {rep.device}", flush=True)
        if rep.status != "ok":
            print(f"\n[rgnb] CHAPTER FAILED: {name} ({rep.status})\n{rep.error}", file=sys.stderr, flush=True)
            return 1
    print((run_dir() / "report.md").read_text())
    return 0


def build() -> int:
    """Build the HTML from the executed notebooks (no execution), warnings as errors."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(REPO_ROOT), "-W", "-n", "--keep-going"]
    return subprocess.run(cmd, cwd=REPO_ROOT).returncode


_ERROR_MARKERS = ("Traceback (most recent call last)", 'class="output traceback', "output stderr",
                  "ipythontb", "NameError", "PapermillExecutionError")


def check_site(html_dir: Path = HTML_DIR) -> list[str]:
    """Problems with the built site: missing pages, chapters without figures, error output shown."""
    problems = []
    for name in chapters():
        page = html_dir / "book" / f"{name}.html"
        if not page.exists():
            problems.append(f"{name}: page {page} is missing")
            continue
        html = page.read_text(errors="replace")
        if name not in TEXT_ONLY and not re.search(r"<img[^>]+src=\"[^\"]+\.(png|svg)\"", html):
            problems.append(f"{name}: no figure on the page")
        problems += [f"{name}: shows error output ({m!r})" for m in _ERROR_MARKERS if m in html]
        if "Executed</strong>" not in html:
            problems.append(f"{name}: no provenance banner")
    return problems


def set_writable_dirs() -> None:
    """Point matplotlib and Jupyter at writable temp dirs when unset (CI, read-only homes)."""
    base = Path(tempfile.gettempdir()) / "rgnb-dirs"
    for var, sub in (("MPLCONFIGDIR", "mpl"), ("JUPYTER_CONFIG_DIR", "jupyter-config"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython")):
        if not os.environ.get(var):
            (base / sub).mkdir(parents=True, exist_ok=True)
            os.environ[var] = str(base / sub)
