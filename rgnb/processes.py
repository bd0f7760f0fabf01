"""Processes: whether one is alive, and ending a whole tree of them (papermill, its kernel and whatever the
kernel started), read from /proc. Used by the execution driver and the cache's temp-file sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

#: Seconds between SIGTERM and SIGKILL when a tree is ended.
KILL_GRACE_S = 5.0


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a writer that died leaves its temp files to sweep)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children, grandchildren, ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """End papermill and everything it started: its process group and each descendant's group.

    The kernel runs in a session of its own (jupyter_client starts it with ``start_new_session``),
    so killing papermill's group alone would orphan it. SIGTERM first, SIGKILL after a grace period.
    """
    groups = {proc.pid}
    for pid in descendants(proc.pid):
        groups.add(pgid(pid))
    groups.discard(-1)
    groups.discard(os.getpgid(0))  # never our own group
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            try:
                os.killpg(group, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + KILL_GRACE_S
        while time.monotonic() < deadline:
            proc.poll()  # reap papermill once it exits
            if not any(group_alive(g) for g in groups):
                return
            time.sleep(0.05)
    proc.poll()


def group_alive(group: int) -> bool:
    """Whether a process group has a member that is not a zombie."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            return True
    return False


def pgid(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return -1
