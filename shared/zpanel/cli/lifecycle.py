"""Starting the supervisor in the background, waiting for the stack to be ready, and stopping a
stack from its ``stack.json`` (by the pids it recorded, checked against their start times)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from zpanel.cli import procs, stackfile
from zpanel.cli.errors import CliError
from zpanel.cli.plan import Plan


def start_detached(plan: Plan) -> subprocess.Popen[bytes]:
    """A supervisor of its own session, reading the plan from a 0600 file (never from argv: the
    plan holds the admin token)."""
    plan_file = plan.save()
    plan.logs.mkdir(parents=True, exist_ok=True)
    with open(plan.logs / "supervisor.log", "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "zpanel.cli.supervisor", str(plan_file)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=plan.home,
        )


def not_ready(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in doc.get("services", []) if s.get("state") != "running"]


def wait_ready(plan: Plan, supervisor: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    """The stack.json of a ready stack; raise, leaving the stack running, if it is not ready in time."""
    deadline = time.monotonic() + timeout
    doc: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        code = supervisor.poll()
        if code is not None:
            raise CliError(
                f"the supervisor exited with code {code} before the stack was ready; see {plan.logs / 'supervisor.log'}"
            )
        doc = stackfile.read(plan.home)
        if doc and doc.get("supervisor_pid") == supervisor.pid and doc.get("services") and not not_ready(doc):
            return doc
        time.sleep(0.05)
    waiting = not_ready(doc or {}) or [{"name": p.name, "state": "pending", "restarts": 0} for p in plan.procs]
    detail = ", ".join(
        f"{s['name']} ({s['state']}, {s['restarts']} restarts; see {plan.logs / (s['name'] + '.log')})" for s in waiting
    )
    raise CliError(f"not ready after {timeout:.0f}s: {detail}; it keeps trying, `zpanel down` stops it")


def down(home: Path, timeout: float = 30.0) -> list[str]:
    """Stop the stack recorded under ``home``: the supervisor (which stops its children), then any
    recorded child that outlived it. Returns the names of the processes that were running."""
    doc = stackfile.read(home)
    if doc is None:
        return []
    stopped: list[str] = []
    services = doc.get("services", [])
    running = [s for s in services if procs.same_process(s.get("pid"), s.get("ticks"))]
    stopped = [s["name"] for s in running]
    sup_pid, sup_ticks = doc.get("supervisor_pid"), doc.get("supervisor_ticks")
    if isinstance(sup_pid, int) and procs.same_process(sup_pid, sup_ticks) and sup_pid != os.getpid():
        # Only the pid: a foreground supervisor shares its process group with the user's shell.
        os.kill(sup_pid, signal.SIGTERM)
        if not procs.wait_gone(sup_pid, sup_ticks, timeout):
            os.kill(sup_pid, signal.SIGKILL)
            procs.wait_gone(sup_pid, sup_ticks, 5)
        stopped.append("supervisor")
    for s in running:  # normally already gone; left behind when the supervisor was killed -9
        procs.stop_recorded(s["pid"], s.get("ticks"), timeout=10)
    after = stackfile.read(home) or doc
    if after.get("supervisor_pid") is not None or any(s.get("pid") for s in after.get("services", [])):
        after["supervisor_pid"] = after["supervisor_ticks"] = None
        for s in after.get("services", []):
            s.update(pid=None, ticks=None, state="stopped")
        stackfile.write(home, after)
    return stopped
