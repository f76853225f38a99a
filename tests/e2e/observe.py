"""Watching the stack from outside: every message its NATS stores, the process list while work
runs, and Docker's events for one deployment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nats
import nats.js.errors

T = TypeVar("T")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a loop of its own thread (the tests here are synchronous)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Stored:
    stream: str
    seq: int
    subject: str
    data: bytes
    headers: dict[str, str]

    def text(self) -> str:
        return self.subject + "\n" + repr(self.headers) + "\n" + self.data.decode(errors="replace")


def stored_messages(nats_url: str) -> list[Stored]:
    """Every message of every stream (KV buckets included) the NATS at ``nats_url`` holds."""

    async def read() -> list[Stored]:
        nc = await nats.connect(servers=nats_url.split(","), connect_timeout=5)
        js = nc.jetstream(timeout=10)
        out: list[Stored] = []
        try:
            for info in await js.streams_info():
                name = info.config.name or ""
                if not info.state.messages:
                    continue
                for seq in range(max(1, info.state.first_seq), info.state.last_seq + 1):
                    try:
                        m = await js.get_msg(name, seq)
                    except nats.js.errors.NotFoundError:
                        continue  # deleted (a work queue acked it, a KV key was overwritten)
                    out.append(Stored(name, seq, m.subject or "", m.data or b"", dict(m.headers or {})))
        finally:
            await nc.close()
        return out

    return run_async(read)


@dataclass
class ProcessWatch:
    """Samples every process's command line (and its parent) every ``interval`` seconds. A pid is
    read again each time: between fork and exec it still shows its parent's command line."""

    interval: float = 0.05
    seen: dict[tuple[int, str], int] = field(default_factory=dict)  # (pid, command line) → parent pid
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                key = (pid, raw.replace(b"\0", b" ").decode(errors="replace"))
                if raw and key not in self.seen:
                    self.seen[key] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue

    def run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def command_lines(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for pid, cmd in self.seen:
            out.setdefault(pid, []).append(cmd)
        return out

    def docker_builds(self) -> dict[str, set[tuple[int, int]]]:
        """deployment id → {(pid, parent pid)} of each ``docker build`` that built for it."""
        out: dict[str, set[tuple[int, int]]] = {}
        for (pid, cmd), ppid in self.seen.items():
            argv = cmd.split()
            if len(argv) > 1 and argv[0].endswith("docker") and argv[1] == "build":
                label = next((a for a in argv if a.startswith("zpanel.deployment=")), None)
                if label:
                    out.setdefault(label.split("=", 1)[1], set()).add((pid, ppid))
        return out


@contextlib.contextmanager
def watching_processes(interval: float = 0.05) -> Iterator[ProcessWatch]:
    watch = ProcessWatch(interval)
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        watch._stop.set()
        thread.join(5)


@contextlib.contextmanager
def docker_events(deployment_id: str, event: str = "start") -> Iterator[subprocess.Popen[str]]:
    """``docker events`` for the containers of one deployment; read a line to wait for one."""
    proc = subprocess.Popen(
        [
            "docker",
            "events",
            "--filter",
            "type=container",
            "--filter",
            f"event={event}",
            "--filter",
            f"label=zpanel.deployment={deployment_id}",
            "--format",
            "{{.ID}}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(5)
