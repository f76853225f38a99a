"""Processes the supervisor owns. Each child leads its own session (so Ctrl-C reaches only the
supervisor, which stops children in order) and is identified by pid *and* kernel start time, so
``down`` never signals a process that merely reused a recorded pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces or parentheses: split after its closing one.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])


def is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def same_process(pid: int | None, ticks: int | None) -> bool:
    """True when ``pid`` still names the very process recorded with ``ticks``, alive."""
    if not pid or ticks is None:
        return False
    return start_ticks(pid) == ticks and not is_zombie(pid)


def spawn(argv: list[str], env: dict[str, str], log: Path, cwd: str | None = None) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    full_env.update(env)
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv,
            env=full_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def signal_group(pid: int, sig: int) -> None:
    """Signal the child's session group (it and whatever it started), falling back to the pid."""
    try:
        if os.getpgid(pid) != pid:
            raise ProcessLookupError  # not a group leader we made: signal the process alone
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def wait_gone(pid: int, ticks: int | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not same_process(pid, ticks):
            return True
        time.sleep(0.02)
    return not same_process(pid, ticks)


def stop_recorded(pid: int, ticks: int | None, timeout: float) -> None:
    """SIGTERM a process we recorded, SIGKILL it if it outlives ``timeout``; nothing if the pid
    no longer names it."""
    if not same_process(pid, ticks):
        return
    signal_group(pid, signal.SIGTERM)
    if not wait_gone(pid, ticks, timeout):
        signal_group(pid, signal.SIGKILL)
        wait_gone(pid, ticks, 5)
