"""The command line (python -m rgnb) and the nbval configuration (book/conftest.py)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rgnb import __main__ as cli
from rgnb import execute

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_execution(monkeypatch):
    calls = []
    monkeypatch.setattr(execute, "execute", lambda *a, **k: calls.append((a, k)) or 0)
    return calls


@pytest.mark.parametrize("argv,message", [
    (["execute", "--timeout", "0"], r"--timeout must be a finite number in (0, 172800], got 0.0"),
    (["execute", "--timeout", "-3"], r"--timeout must be a finite number in (0, 172800], got -3.0"),
    (["execute", "--timeout", "1e9"], r"--timeout must be a finite number in (0, 172800], got 1000000000.0"),
    (["execute", "--timeout", "nan"], "--timeout must be a finite number"),
    (["execute", "--device", "bogus"], "device must be one of ('auto', 'cpu', 'cuda'), got 'bogus'"),
    (["execute", "--chapter", "nope"], "chapter must be one of"),
    (["execute", "--bogus"], "unrecognized arguments: --bogus"),
    (["execute", "--profile", "tiny"], "invalid choice: 'tiny'"),
    (["execute", "--allow-dirty"], "--allow-dirty only applies with --store"),
    (["execute", "--profile", "smoke", "--store"], "a smoke run is never stored"),
    (["bench", "rg", "--bogus"], "bench rg takes no arguments, got ['--bogus']"),
    (["bench", "nosuch"], "invalid choice: 'nosuch'"),
    (["bench", "eft", "--bogus"], "unrecognized arguments: --bogus"),  # the benchmark's own parser
])
def test_bad_arguments_exit_2_before_anything_runs(argv, message, no_execution, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert no_execution == []


def test_good_arguments_reach_execute(no_execution):
    assert cli.main(["execute", "--profile", "smoke", "--chapter", "chain_spectra", "--device", "cpu",
                     "--timeout", "60"]) == 0
    (args, kwargs), = no_execution
    assert args == ("smoke", ["chain_spectra"], "cpu", 60.0) and kwargs["root"] == execute.REPO_ROOT


def test_chapters_and_site_check_exit_codes(monkeypatch, capsys):
    assert cli.main(["chapters"]) == 0
    assert capsys.readouterr().out.split() == execute.chapters()
    from rgnb import site
    from rgnb.site import static

    browser_args = []
    monkeypatch.setattr(site, "main", lambda argv: browser_args.append(argv) or 0)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(static, "check_built_pages", lambda: ["intro: shows error output ('Traceback')"])
    assert cli.main(["check-site"]) == 1
    assert "site problem: intro: shows error output" in capsys.readouterr().err
    monkeypatch.setattr(static, "check_built_pages", lambda: [])
    assert cli.main(["check-site"]) == 0
    assert browser_args[-1] == ["--require-browser"]  # on CI a missing browser fails instead of skipping
    for browser_rc in (1, 2):                           # a page problem, or no browser where one is required
        monkeypatch.setattr(site, "main", lambda argv, rc=browser_rc: rc)
        assert cli.main(["check-site"]) == browser_rc


def test_module_entry_point_refuses_unknown_bench_arguments():
    proc = subprocess.run([sys.executable, "-m", "rgnb", "bench", "rg", "--bogus"], cwd=REPO, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert proc.returncode == 2 and "takes no arguments" in proc.stderr


# --------------------------------------------------------------------------------------------- #
# book/conftest.py: nbval never writes into book/_run and runs the ledger readers last
# --------------------------------------------------------------------------------------------- #
def _book_conftest():
    spec = importlib.util.spec_from_file_location("book_conftest", REPO / "book" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nbval_kernels_write_to_a_temp_copy_of_the_run_dir(monkeypatch):
    conftest = _book_conftest()
    monkeypatch.delenv("RGNB_NBVAL_RUN_DIR", raising=False)
    monkeypatch.setenv("RGNB_RUN_DIR", str(REPO / "book" / "_run"))  # even if a user pointed it there
    run = conftest.isolate_run_dir()
    try:
        assert os.environ["RGNB_RUN_DIR"] == str(run) and run != REPO / "book" / "_run"
        assert not str(run).startswith(str(REPO))
        stored = sorted(p.name for p in (REPO / "book" / "_run").iterdir() if p.is_file())
        assert sorted(p.name for p in run.iterdir()) == stored  # the ledger is there for any order
        assert conftest.isolate_run_dir() == run  # once per session
    finally:
        import shutil

        shutil.rmtree(run, ignore_errors=True)


def test_claims_command_takes_json_and_run_dir_as_the_readme_says(capsys, tmp_path):
    import json

    assert cli.main(["claims", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {"id", "verdict", "holm_p"} <= set(rows[0])
    assert cli.main(["claims", "--run-dir", str(REPO / "book" / "_run")]) == 0
    assert "reproduced" in capsys.readouterr().out
    assert cli.main(["claims", "--run-dir", str(tmp_path), "--json"]) == 0  # an empty run: no rows
    assert json.loads(capsys.readouterr().out) == []
    with pytest.raises(SystemExit) as stop:
        cli.main(["claims", "--run-dir", str(tmp_path / "missing")])
    assert stop.value.code == 2 and f"no run directory at {tmp_path / 'missing'}" in capsys.readouterr().err


def test_nbval_guard_hashes_tracked_files_so_a_dirty_file_changed_again_counts(tmp_path):
    conftest = _book_conftest()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    (tmp_path / "a.txt").write_text("one\n")
    (tmp_path / "b.txt").write_text("b\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, env=env, capture_output=True)
    (tmp_path / "a.txt").write_text("two\n")  # already dirty before the session
    before = conftest.tracked_hashes(tmp_path)
    assert conftest.changed_files(before, conftest.tracked_hashes(tmp_path)) == []
    (tmp_path / "a.txt").write_text("three\n")  # git status shows the same line as before
    (tmp_path / "b.txt").unlink()
    assert conftest.changed_files(before, conftest.tracked_hashes(tmp_path)) == ["a.txt", "b.txt"]


def test_nbval_ledger_check_fails_on_a_one_character_change_to_a_committed_ledger(tmp_path):
    import shutil

    conftest = _book_conftest()
    from rgnb.environment import Settings

    committed, run = tmp_path / "committed", tmp_path / "run"
    for d in (committed, run):
        shutil.copytree(REPO / "book" / "_run", d)
    assert conftest.ledger_problems(run, Settings(), committed) == []
    path = committed / "kernel_drift.claims.json"
    text = path.read_text()
    i = text.index('"p_value": ') + len('"p_value": ')
    path.write_text(text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1:])
    problems = conftest.ledger_problems(run, Settings(), committed)
    assert len(problems) == 1 and problems[0].startswith("kernel_drift: the computed ledger differs")
    assert conftest.ledger_problems(run, Settings(profile="smoke"), committed) == []  # another scale: not compared


def test_nbval_session_fails_when_a_computed_ledger_differs_from_the_committed_one(tmp_path, monkeypatch):
    import shutil
    from types import SimpleNamespace

    import pytest as _pytest

    from rgnb.environment import Settings

    conftest = _book_conftest()
    run = tmp_path / "run"
    shutil.copytree(REPO / "book" / "_run", run)
    config = SimpleNamespace(_rgnb_tracked_before={}, _rgnb_settings=Settings(), _rgnb_run_dir=run,
                             pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
    monkeypatch.setattr(conftest, "tracked_hashes", lambda root=None: {})
    session = SimpleNamespace(config=config, exitstatus=0)
    conftest.pytest_sessionfinish(session, 0)
    assert session.exitstatus == 0  # every ledger as committed
    path = run / "selectivity.claims.json"
    path.write_text(path.read_text().replace('"verdict": "', '"verdict": " ', 1))  # one character
    conftest.pytest_sessionfinish(session, 0)
    assert session.exitstatus == _pytest.ExitCode.TESTS_FAILED


def test_nbval_order_is_the_book_order_with_ledger_readers_last():
    conftest = _book_conftest()
    order = execute.chapters()
    given = [Path(f"book/{n}.ipynb") for n in sorted(order)]  # alphabetical, as pytest collects
    ordered = [p.stem for p in sorted(given, key=lambda p: conftest.sort_key(p, order))]
    readers = [n for n in order if n in conftest.LEDGER_READERS]
    assert ordered[-len(readers):] == readers
    assert ordered[:-len(readers)] == [n for n in order if n not in conftest.LEDGER_READERS]


# --------------------------------------------------------------------------------------------- #
# tools/mutate.py: applies each mutant, counts kills, always restores the file
# --------------------------------------------------------------------------------------------- #
MUTANTS = '''
[[mutant]]
name = "caught"
file = "pkg_mod.py"
old = "return a + b"
new = "return a - b"
tests = ["test_pkg.py"]

[[mutant]]
name = "missed"
file = "pkg_mod.py"
old = "return abs(x)"
new = "return x"
tests = ["test_pkg.py"]

[[mutant]]
name = "absent"
file = "pkg_mod.py"
old = "no such text"
new = "x"
tests = ["test_pkg.py"]

[[mutant]]
name = "no such test"
file = "pkg_mod.py"
old = "return a + b"
new = "return a * b"
tests = ["test_pkg.py::test_nothing_here"]
'''


def test_mutation_runner_counts_kills_and_restores_files(tmp_path):
    source = "def add(a, b):\n    return a + b\n\n\ndef size(x):\n    return abs(x)\n"
    (tmp_path / "pkg_mod.py").write_text(source)
    (tmp_path / "test_pkg.py").write_text("from pkg_mod import add, size\n\n\ndef test_add():\n"
                                          "    assert add(2, 3) == 5\n\n\ndef test_size():\n    assert size(2) == 2\n")
    (tmp_path / "tools" / "mutants").mkdir(parents=True)
    (tmp_path / "tools" / "mutants" / "x.toml").write_text(MUTANTS)
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "mutate.py"), "--root", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    rows = {line.split("|")[1].strip(): line.split("|")[3].strip() for line in proc.stdout.splitlines()
            if line.startswith("| ") and "mutant" not in line}
    assert rows == {"caught": "yes", "missed": "NO", "absent": "invalid: old string occurs 0 times",
                    "no such test": "error: pytest exit 4"}
    assert "mutation score: 1/2 killed (50 %); 2 invalid or not run" in proc.stdout
    assert proc.returncode == 2
    assert (tmp_path / "pkg_mod.py").read_text() == source  # restored
