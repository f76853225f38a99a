"""Container status check from ``docker inspect``: running, not restarting, not OOM-killed, and
not in a restart loop. Also the guard every other check runs first, so a container that crashed
fails the check at once instead of after the whole start period."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zpanel_health.checks.base import ProbeResult
from zpanel_health.errors import HealthError
from zpanel_health.runner import Runner

RESTART_LIMIT = 2
"""Restarts of a container this young that mean it crashes in a loop."""


def inspect_argv(container: str, docker: str = "docker") -> list[str]:
    return [docker, "inspect", "--type", "container", container]


def judge_state(inspect: dict[str, Any], restart_limit: int = RESTART_LIMIT) -> ProbeResult:
    """Judge one element of ``docker inspect``'s JSON array."""
    state = inspect.get("State") or {}
    restarts = int(inspect.get("RestartCount") or 0)
    code = state.get("ExitCode", 0)
    if state.get("OOMKilled"):
        return ProbeResult(
            False, "the container was killed for running out of memory (OOM): raise its memory limit", True
        )
    if restarts >= restart_limit:
        # Docker resets ExitCode when it starts the container again: while it runs, the code of
        # the crash before is no longer there to report
        last = "running again for now" if state.get("Running") and not code else f"last exit code {code}"
        return ProbeResult(False, f"the container is in a restart loop: restarted {restarts} times, {last}", True)
    if state.get("Restarting"):
        return ProbeResult(False, f"the container is restarting (exit code {code})")
    status = state.get("Status", "")
    if status in ("exited", "dead"):
        return ProbeResult(False, f"the container exited with code {code}: see its log lines", True)
    if state.get("Paused"):
        return ProbeResult(False, "the container is paused")
    if not state.get("Running"):
        return ProbeResult(False, f"the container is not running yet (status {status or 'unknown'})")
    return ProbeResult(True, "the container is running")


@dataclass(frozen=True)
class ContainerCheck:
    container: str
    runner: Runner
    docker: str = "docker"
    restart_limit: int = RESTART_LIMIT
    timeout: float = 10.0

    async def inspect(self) -> dict[str, Any] | None:
        """The container's inspect JSON, or None when it does not exist."""
        done = await self.runner(inspect_argv(self.container, self.docker), timeout=self.timeout)
        if done.returncode != 0:
            if "no such container" in (done.stderr + done.stdout).lower():
                return None
            raise HealthError(f"docker inspect {self.container} failed: {done.stderr.strip()[:200]}")
        try:
            data: dict[str, Any] = json.loads(done.stdout)[0]
        except (ValueError, IndexError, TypeError) as exc:
            raise HealthError(f"docker inspect {self.container} printed something that is not its JSON") from exc
        return data

    async def __call__(self) -> ProbeResult:
        data = await self.inspect()
        if data is None:
            return ProbeResult(False, f"the container {self.container} no longer exists", True)
        return judge_state(data, self.restart_limit)


@dataclass
class StableContainerCheck:
    """The ``container`` health type: running, and still the same run (same start time) for
    ``window`` seconds. A single "running" sighting proves little: a crash-looping container is
    running between its restarts."""

    check: ContainerCheck
    clock: Callable[[], float] = time.monotonic
    window: float = 1.0
    _run: str | None = field(default=None, init=False)
    _since: float = field(default=0.0, init=False)

    async def __call__(self) -> ProbeResult:
        data = await self.check.inspect()
        if data is None:
            return ProbeResult(False, f"the container {self.check.container} no longer exists", True)
        result = judge_state(data, self.check.restart_limit)
        if not result.ok:
            self._run = None
            return result
        run = str((data.get("State") or {}).get("StartedAt", ""))
        if run != self._run:
            self._run, self._since = run, self.clock()
        held = self.clock() - self._since
        if held < self.window:
            return ProbeResult(False, f"the container is running, for {held:.1f}s of the {self.window:g}s required")
        return ProbeResult(True, f"the container has been running for {held:.1f}s")
