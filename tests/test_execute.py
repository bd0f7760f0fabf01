"""rgnb.execute: chapter list, where runs write (a reader's run vs --store), atomic replacement, failure,
kill, the reproduction report, site check."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from rgnb import execute

REPO = Path(__file__).resolve().parent.parent
HEADER = ('# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n'
          '#     name: python3\n# ---\n\n') + '# %% tags=["parameters"]\nprofile = "auto"\ndevice = "auto"\nseed = 0\n\n'
RECORD = ('# %%\nimport json, os, pathlib\nrun = pathlib.Path(os.environ["RGNB_RUN_DIR"])\n'
          '(run / "{name}.provenance.json").write_text(json.dumps({{"device_name": "fake"}}))\n'
          'print("profile is", profile)\n\n')
CHAPTERS = {
    "ok": RECORD,
    "boom": RECORD + '# %%\nraise RuntimeError("chapter blew up on purpose")\n',
    "sleepy": RECORD + ('# %%\nimport time\nmarkers = pathlib.Path(os.environ["RGNB_TEST_MARKERS"])\n'
                        # written then renamed, so a reader never sees the file empty
                        '(markers / "sleepy.kernel-pid.tmp").write_text(str(os.getpid()))\n'
                        'os.replace(markers / "sleepy.kernel-pid.tmp", markers / "sleepy.kernel-pid")\n'
                        'time.sleep(120)\n'),
    "claimy": RECORD + ('# %%\nrows = [{{"id": "a", "verdict": "reproduced", "p_value": 0.01}},\n'
                        '        {{"id": "b", "verdict": "reproduced", "p_value": 0.02}}]\n'
                        '(run / "claimy.claims.json").write_text(json.dumps({{"schema": 3, "rows": rows}}))\n'),
}
#: The stored ledger of "claimy": row b differs from what the chapter computes.
STORED_CLAIMY = {"schema": 3, "rows": [{"id": "a", "verdict": "reproduced", "p_value": 0.01},
                                       {"id": "b", "verdict": "inconclusive", "p_value": 0.03}]}


@pytest.fixture
def book(tmp_path, monkeypatch):
    """A tiny repository: _toc.yml, three chapters and a stored notebook for each."""
    monkeypatch.delenv("RGNB_RUN_DIR", raising=False)
    monkeypatch.delenv("RGNB_PROFILE", raising=False)
    monkeypatch.delenv("RGNB_DEVICE", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("RGNB_TEST_MARKERS", str(tmp_path / "markers"))
    (tmp_path / "markers").mkdir()
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/ok\nchapters:\n"
                                       "  - file: book/boom\n  - file: book/sleepy\n  - file: book/claimy\n")
    for name, body in CHAPTERS.items():
        (tmp_path / "book" / f"{name}.py").write_text(HEADER + body.format(name=name))
        (tmp_path / "book" / f"{name}.ipynb").write_bytes(f'{{"stored": "{name}"}}\n'.encode())
    return tmp_path


def _stored(book):
    """Every file under book/ (the stored book), by relative path."""
    return {str(p.relative_to(book)): p.read_bytes() for p in sorted((book / "book").rglob("*")) if p.is_file()}


def _report(run_dir):
    return {r["chapter"]: r for r in json.loads((run_dir / "report.json").read_text())["chapters"]}


def test_every_chapter_in_the_toc_has_a_source():
    names = execute.chapters()
    assert names[0] == "intro" and names[-1] == "appendix" and len(set(names)) == len(names)
    for name in names:
        assert (execute.BOOK_DIR / f"{name}.py").exists(), name


def test_profiles_write_to_their_own_places(tmp_path, monkeypatch):
    monkeypatch.delenv("RGNB_RUN_DIR", raising=False)
    for profile in ("reference", "full", "smoke"):  # a reader's run: never into book/
        runs = tmp_path / "_build" / "runs" / profile
        assert execute.output_dirs(profile, tmp_path) == (runs, runs / "_run")
    stored = {"store": True}
    assert execute.output_dirs("reference", tmp_path, **stored) == (tmp_path / "book", tmp_path / "book" / "_run")
    assert execute.output_dirs("full", tmp_path, **stored) == (tmp_path / "book" / "full",
                                                               tmp_path / "book" / "_run" / "full")
    nb, run = execute.output_dirs("smoke", tmp_path, **stored)
    assert nb == tmp_path / "_build" / "runs" / "smoke" and run == nb / "_run"
    monkeypatch.setenv("RGNB_RUN_DIR", str(tmp_path / "elsewhere"))
    assert execute.output_dirs("smoke", tmp_path)[1] == tmp_path / "elsewhere"
    with pytest.raises(ValueError, match="profile must be one of"):
        execute.output_dirs("auto", tmp_path)


def test_successful_chapter_replaces_the_stored_notebook(book):
    assert execute.execute("reference", ["ok"], root=book, store=True, allow_dirty=True) == 0
    nb = nbformat.read(book / "book" / "ok.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata.tags
    assert any("profile is reference" in o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    report = _report(book / "book" / "_run")
    assert report["ok"]["status"] == "ok" and report["ok"]["device"] == "fake"
    assert report["ok"]["profile"] == "reference"
    assert not list((book / "book").glob(".*tmp*"))
    assert (book / "book" / "_run" / "ok.provenance.json").exists()  # the run records were promoted


def test_smoke_never_touches_the_stored_book(book):
    before = _stored(book)
    assert execute.execute("smoke", ["ok"], root=book) == 0
    assert _stored(book) == before and not (book / "book" / "_run").exists()
    assert (book / "_build" / "runs" / "smoke" / "ok.ipynb").exists()
    assert _report(book / "_build" / "runs" / "smoke" / "_run")["ok"]["status"] == "ok"


def test_failing_chapter_leaves_the_stored_notebook_byte_identical(book, capsys):
    before = _stored(book)
    assert execute.execute("reference", ["boom"], root=book, store=True, allow_dirty=True) == 1
    assert _stored(book) == before  # the stored notebook is untouched
    err = capsys.readouterr().err
    assert "CHAPTER FAILED: boom (failed)" in err
    assert 'raise RuntimeError("chapter blew up on purpose")' in err  # the failing cell is shown
    assert "RuntimeError: chapter blew up on purpose" in err
    assert _report(book / "_build" / "failed" / "reference")["boom"]["status"] == "failed"
    assert (book / "_build" / "failed" / "reference" / "boom.ipynb").exists()  # kept for inspection
    assert not (book / "book" / "_run").exists()  # the kernel's records stayed in its staging dir


def test_timeout_leaves_the_stored_notebook_and_no_process(book, capsys):
    before = _stored(book)
    assert execute.execute("reference", ["sleepy"], timeout_s=8, root=book, store=True, allow_dirty=True) == 1
    assert _stored(book) == before
    assert _report(book / "_build" / "failed" / "reference")["sleepy"]["status"] == "timeout"
    pid_file = book / "markers" / "sleepy.kernel-pid"
    if pid_file.exists():
        assert not _alive(int(pid_file.read_text()))


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _processes_mentioning(text):
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace") and _alive(int(cmdline.parent.name)):
                out.append(int(cmdline.parent.name))
        except OSError:
            pass
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_run_ends_its_processes_and_leaves_the_book_byte_identical(book, sig):
    before = _stored(book)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "rgnb", "execute", "--profile", "reference", "--chapter", "ok",
                             "--chapter", "sleepy", "--root", str(book), "--store", "--allow-dirty"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = book / "markers" / "sleepy.kernel-pid"
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert pid_file.exists(), proc.communicate()
    kernel = int(pid_file.read_text())
    assert _alive(kernel)
    runtime = list(Path(tempfile.gettempdir()).glob(f"rgnb-kernel-{proc.pid}-*"))
    assert len(runtime) == 1 and list(runtime[0].glob("*.json"))  # the kernel's connection file
    stored_after_ok = {k: v for k, v in _stored(book).items() if not k.endswith(".ipynb.tmp")}
    assert any(k.endswith(".ipynb.tmp") for k in _stored(book))  # sleepy is being written to a temp file
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert "INTERRUPTED" in err
    time.sleep(0.5)
    assert not _alive(kernel)  # the kernel did not outlive the run
    assert _processes_mentioning(str(book)) == []  # nor papermill
    assert not runtime[0].exists()  # nor its connection file
    after = _stored(book)
    assert after == stored_after_ok  # the killed chapter changed nothing: no temp, partial or record file
    assert after["book/sleepy.ipynb"] == before["book/sleepy.ipynb"]  # byte-identical
    assert after["book/ok.ipynb"] != before["book/ok.ipynb"]  # the chapter that finished was stored
    assert "book/_run/sleepy.provenance.json" not in after
    assert _report(book / "book" / "_run").keys() == {"ok"}
    report = _report(book / "_build" / "failed" / "reference")
    assert report["sleepy"]["status"] == "killed" and report["ok"]["status"] == "ok"


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                            GIT_COMMITTER_EMAIL="t@t"))


def test_a_readers_run_never_touches_the_stored_book_and_reports_reproduction(book, capsys):
    (book / "book" / "_run").mkdir()
    (book / "book" / "_run" / "claimy.claims.json").write_text(json.dumps(STORED_CLAIMY))
    before = _stored(book)
    assert execute.execute("reference", ["ok", "claimy"], root=book) == 0
    assert _stored(book) == before  # book/ and book/_run/ byte-identical
    runs = book / "_build" / "runs" / "reference"
    assert (runs / "ok.ipynb").exists() and _report(runs / "_run")["claimy"]["status"] == "ok"
    out = capsys.readouterr().out
    assert "1 of 2 rows identical, 1 differ" in out
    assert "claimy / b: differs in 2 field(s)" in out
    assert 'p_value: stored 0.03, this run 0.02' in out
    assert 'verdict: stored "inconclusive", this run "reproduced"' in out
    assert (runs / "_run" / "reproduction.md").read_text() in out


def test_store_refuses_a_dirty_tree_and_smoke(book, capsys):
    from rgnb import __main__ as cli

    _git(book, "init", "-q")
    _git(book, "add", "-A")
    _git(book, "commit", "-qm", "stored")
    (book / "book" / "ok.ipynb").write_text('{"edited": true}\n')  # a tracked file changed
    before = _stored(book)
    with pytest.raises(ValueError, match=r"--store refuses a git tree with uncommitted changes(.|\n)*book/ok.ipynb"):
        execute.execute("reference", ["ok"], root=book, store=True)
    with pytest.raises(SystemExit) as stop:
        cli.main(["execute", "--profile", "reference", "--chapter", "ok", "--root", str(book), "--store"])
    assert stop.value.code == 2 and "uncommitted changes" in capsys.readouterr().err
    assert _stored(book) == before
    with pytest.raises(ValueError, match="a smoke run is never stored"):
        execute.execute("smoke", ["ok"], root=book, store=True, allow_dirty=True)
    _git(book, "checkout", "--", "book/ok.ipynb")  # clean again: storing works
    assert execute.execute("reference", ["ok"], root=book, store=True) == 0
    assert _report(book / "book" / "_run")["ok"]["status"] == "ok"


def test_stale_temp_notebooks_of_dead_writers_are_swept(book):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = book / "book" / f".ok.{dead.pid}.abc.ipynb.tmp"
    live = book / "book" / f".ok.{os.getpid()}.abc.ipynb.tmp"
    stale.write_text("{}")
    live.write_text("{}")
    execute._sweep_stale_temp_notebooks(book / "book")
    assert not stale.exists() and live.exists()


@pytest.mark.parametrize("kwargs,match", [
    ({"timeout_s": 0}, r"timeout must be a finite number in \(0, 172800\], got 0"),
    ({"timeout_s": -5.0}, r"timeout must be a finite number in \(0, 172800\]"),
    ({"timeout_s": float("inf")}, r"timeout must be a finite number"),
    ({"device": "bogus"}, r"device must be one of \('auto', 'cpu', 'cuda'\), got 'bogus'"),
    ({"device": "cpu:x"}, r"device must be one of"),
    ({"selected": ["no_such_chapter"]}, "chapter must be one of"),
])
def test_bad_options_are_refused_before_any_notebook_is_touched(book, kwargs, match):
    before = _stored(book)
    with pytest.raises(ValueError, match=match):
        execute.execute("reference", root=book, **kwargs)
    assert _stored(book) == before and not (book / "book" / "_run").exists()


def test_injected_parameters_are_hidden(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    execute._hide_injected_parameters(path)
    cells = nbformat.read(path, as_version=4).cells
    assert "remove-cell" in cells[0].metadata.tags
    assert "remove-cell" not in cells[1].metadata.get("tags", [])


def test_build_invokes_jupyter_book_without_execution(monkeypatch, tmp_path):
    calls = []

    def fake_run(cmd, cwd):
        calls.append((cmd, cwd))
        return subprocess.CompletedProcess(cmd, 3)

    monkeypatch.setattr(execute.subprocess, "run", fake_run)
    assert execute.build(tmp_path) == 3  # the exit code is passed on
    (cmd, cwd), = calls
    assert cmd[1:] == ["build", str(tmp_path), "-W", "-n", "--keep-going"] and cwd == tmp_path
