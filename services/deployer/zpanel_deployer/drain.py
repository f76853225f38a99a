"""Drain: after the switch, the old version keeps running until its in-flight requests are done,
bounded by a drain timeout; only then does the deployer stop it.

"In flight" is read from the old container's own network namespace: established TCP connections
on the app's port in ``/proc/<pid>/net/tcp{,6}``, read on the host (through the runner), so it
works for any image, with nothing inside it. A connection kept idle by HTTP keep-alive also
counts; servers close those after their keep-alive timeout, and the drain timeout bounds the wait.

The deployer retires old versions with ``inbound_argv``/``inbound``: several containers in one
command (one round trip per poll over SSH), and connections counted on whatever ports the
container listens on, so it needs no port and ignores the app's own outgoing connections.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ESTABLISHED = "01"
LISTEN = "0A"

# One section per readable process ("== pid" then its tcp and tcp6 tables); "!! pid" when the
# process exists but its tables cannot be read (another user's process, a hardened /proc); a
# process that is gone prints nothing: nothing left to drain.
INBOUND_SCRIPT = (
    'for p; do if t=$(cat "/proc/$p/net/tcp" 2>/dev/null); then echo "== $p"; printf "%s\\n" "$t"; '
    'cat "/proc/$p/net/tcp6" 2>/dev/null; elif [ -e "/proc/$p" ]; then echo "!! $p"; fi; done'
)


class Unreadable(Exception):
    """The connections of a running container cannot be read: how long to wait is unknown."""


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


def listening_inbound(proc_net_tcp: str) -> int:
    """Established connections whose local port is one this network namespace listens on: the
    requests in flight (and kept-alive connections), not the app's own outgoing connections."""
    listening: set[int] = set()
    established: list[int] = []
    for line in proc_net_tcp.splitlines():
        fields = line.split()
        if len(fields) < 4 or ":" not in fields[1]:
            continue
        port = int(fields[1].rsplit(":", 1)[1], 16)
        if fields[3] == LISTEN:
            listening.add(port)
        elif fields[3] == ESTABLISHED:
            established.append(port)
    return sum(1 for port in established if port in listening)


def inbound_argv(pids: Sequence[int]) -> list[str]:
    return ["sh", "-c", INBOUND_SCRIPT, "sh", *(str(p) for p in pids)]


def inbound(output: str) -> int:
    """Total inbound connections from ``inbound_argv``'s output, each process on its own."""
    total, section = 0, ""
    for line in output.splitlines(keepends=True):
        if line.startswith("!! "):
            raise Unreadable(f"cannot read the connections of process {line[3:].strip()}")
        if line.startswith("== "):
            total += listening_inbound(section)
            section = ""
        else:
            section += line
    return total + listening_inbound(section)


def parse_pids(output: str) -> list[int]:
    """Running containers' pids from ``docker inspect --format {{.State.Pid}}`` (0: not running)."""
    return [int(v) for v in output.split() if v.isdigit() and v != "0"]


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
