"""Drain: after the switch, the old version keeps running until its in-flight requests are done,
bounded by a drain timeout; only then does the deployer stop it.

"In flight" is read from the old container's own network namespace: established TCP connections
on the app's port in ``/proc/<pid>/net/tcp{,6}``, read on the host (through the runner), so it
works for any image, with nothing inside it. A connection kept idle by HTTP keep-alive also
counts; servers close those after their keep-alive timeout, and the drain timeout bounds the wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ESTABLISHED = "01"


class Runner(Protocol):
    """Any runner with this shape fits (health's ``local_runner``, the deployer's SSH runner)."""

    async def __call__(self, argv: Sequence[str], *, timeout: float) -> Any: ...


def pid_argv(container: str, docker: str = "docker") -> list[str]:
    return [docker, "inspect", "--type", "container", "--format", "{{.State.Pid}}", container]


def proc_net_argv(pid: int) -> list[str]:
    return ["cat", f"/proc/{pid}/net/tcp", f"/proc/{pid}/net/tcp6"]


def established_on(proc_net_tcp: str, port: int) -> int:
    """Established connections whose local port is ``port``, from ``/proc/net/tcp{,6}`` text."""
    count = 0
    for line in proc_net_tcp.splitlines():
        fields = line.split()
        if len(fields) < 4 or ":" not in fields[1]:
            continue
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == ESTABLISHED:
            count += 1
    return count


def connection_counter(
    runner: Runner, container: str, port: int, docker: str = "docker"
) -> Callable[[], Awaitable[int]]:
    """``await count()``: established connections on the container's ``port``; 0 once it is gone."""
    pid: list[int] = []

    async def count() -> int:
        if not pid:
            done = await runner(pid_argv(container, docker), timeout=10.0)
            value = done.stdout.strip() if done.returncode == 0 else ""
            if not value.isdigit() or value == "0":
                return 0  # not running: nothing left to drain
            pid.append(int(value))
        done = await runner(proc_net_argv(pid[0]), timeout=10.0)
        return established_on(done.stdout, port) if done.returncode == 0 else 0

    return count


@dataclass(frozen=True)
class Drained:
    waited: float
    remaining: int
    """Connections still open when the wait ended: 0, or more when the timeout cut it short."""


async def wait_drained(
    count: Callable[[], Awaitable[int]],
    timeout: float = 30.0,
    settle: float = 0.1,
    interval: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Drained:
    """Wait ``settle`` (a request the proxy picked up just before the switch is connected by
    then), then until ``count()`` is 0 or ``timeout`` has passed."""
    start = clock()
    await sleep(settle)
    while True:
        left = await count()
        waited = clock() - start
        if left == 0 or waited >= timeout:
            return Drained(waited, left)
        await sleep(interval)
