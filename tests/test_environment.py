"""rgnb.environment: every RGNB_* variable read once into one frozen Settings, validated with a message
naming the variable and its allowed values; the command line refuses a bad one before anything runs."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rgnb import environment
from rgnb import execute

REPO = Path(__file__).resolve().parent.parent


def test_unset_variables_give_empty_settings():
    assert environment.read({}) == environment.Settings()
    assert environment.read({"RGNB_PROFILE": "", "RGNB_THREADS": "  "}) == environment.Settings()


def test_good_values_are_parsed(tmp_path):
    browser = tmp_path / "chrome"
    browser.write_text("")
    s = environment.read({"RGNB_PROFILE": "smoke", "RGNB_DEVICE": "cuda:1", "RGNB_RUN_DIR": str(tmp_path / "run"),
                          "RGNB_CACHE": str(tmp_path), "RGNB_CHROMIUM": str(browser), "RGNB_THREADS": "2",
                          "RGNB_NBVAL_RUN_DIR": str(tmp_path)})
    assert (s.profile, s.device, s.run_dir, s.cache, s.chromium, s.threads) == (
        "smoke", "cuda:1", tmp_path / "run", tmp_path, browser, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.profile = "full"


def _a_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("x")
    return str(path)


BAD = [
    ("RGNB_PROFILE", lambda t: "bogus", "one of ('smoke', 'reference', 'full', 'auto')"),
    ("RGNB_PROFILE", lambda t: "FULL", "one of"),
    ("RGNB_DEVICE", lambda t: "bogus", "one of ('auto', 'cpu', 'cuda') or 'cuda:N'"),
    ("RGNB_DEVICE", lambda t: "cpu:0", "or 'cuda:N'"),
    ("RGNB_DEVICE", lambda t: "cuda:x", "or 'cuda:N'"),
    ("RGNB_THREADS", lambda t: "0", "an integer >= 1"),
    ("RGNB_THREADS", lambda t: "two", "an integer >= 1"),
    ("RGNB_RUN_DIR", _a_file, "a directory path (not an existing file)"),
    ("RGNB_CACHE", _a_file, "a directory path (not an existing file)"),
    ("RGNB_NBVAL_RUN_DIR", _a_file, "a directory path"),
    ("RGNB_CHROMIUM", lambda t: str(t / "no-such-browser"), "the path of an existing Chromium/Chrome executable"),
]


@pytest.mark.parametrize("var,value,allowed", BAD, ids=[f"{v}-{i}" for i, (v, _, _) in enumerate(BAD)])
def test_bad_values_name_the_variable_and_the_allowed_values(tmp_path, var, value, allowed):
    text = value(tmp_path)
    with pytest.raises(environment.SettingError) as info:
        environment.read({var: text})
    assert str(info.value).startswith(f"{var} must be ") and allowed in str(info.value) and repr(text) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_every_variable_rgnb_reads_is_declared():
    """No module but rgnb.environment reads an RGNB_* variable from the environment."""
    import re

    pattern = re.compile(r"os\.environ(?:\.get)?[\[(]\s*[\"'](RGNB_[A-Z_]+)")
    readers = {}
    for path in sorted((REPO / "rgnb").rglob("*.py")):
        for var in pattern.findall(path.read_text()):
            readers.setdefault(var, []).append(path.relative_to(REPO).as_posix())
    assert readers == {}, readers
    used = set(re.findall(r"RGNB_[A-Z_]+", "\n".join(p.read_text() for p in (REPO / "rgnb").rglob("*.py"))))
    assert used - {"RGNB_"} <= set(environment.VARIABLES)


@pytest.mark.parametrize("var,value", [("RGNB_PROFILE", "bogus"), ("RGNB_DEVICE", "bogus"), ("RGNB_THREADS", "-1")])
def test_the_command_line_refuses_a_bad_variable_before_any_notebook_runs(monkeypatch, capsys, var, value):
    from rgnb import __main__ as cli

    calls = []
    monkeypatch.setattr(execute, "execute", lambda *a, **k: calls.append(a) or 0)
    monkeypatch.setenv(var, value)
    for argv in (["execute", "--profile", "smoke"], ["claims", "--json"], ["chapters"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(argv)
        assert stop.value.code == 2
        assert f"{var} must be " in capsys.readouterr().err
    assert calls == []


def test_an_unavailable_rgnb_device_is_refused_before_execution(monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="RGNB_DEVICE='cuda': .*no CUDA device"):
        execute.validate_options(None, None, environment.Settings(device="cuda"))


def test_bogus_profile_from_the_shell_is_a_message_not_a_traceback():
    env = dict(os.environ, PYTHONPATH=str(REPO), RGNB_PROFILE="bogus")
    proc = subprocess.run([sys.executable, "-m", "rgnb", "execute", "--profile", "smoke", "--chapter", "intro"],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "RGNB_PROFILE must be one of ('smoke', 'reference', 'full', 'auto'), got 'bogus'" in proc.stderr


def test_settings_passed_down_win_over_the_process_environment(monkeypatch, tmp_path):
    from rgnb import profiles, provenance

    monkeypatch.setenv("RGNB_PROFILE", "full")
    monkeypatch.setenv("RGNB_RUN_DIR", str(tmp_path / "env"))
    settings = environment.Settings(profile="smoke", run_dir=tmp_path / "given")
    assert profiles.resolve_profile("reference", settings) == "smoke"
    assert provenance.run_dir(settings) == tmp_path / "given"
    run = provenance.start_chapter("demo", device="cpu", settings=settings)
    assert run.settings is settings and (tmp_path / "given" / "demo.provenance.json").exists()
    assert not (tmp_path / "env").exists()
