"""The supervisor: starts the plan's processes in order (waiting for gated ones such as NATS),
restarts any that dies with exponential backoff (logged, counted), probes readiness, keeps
``stack.json`` current, and on SIGTERM/SIGINT stops what it started: services and proxy first,
gated processes (NATS) last.

Run in the foreground by ``zpanel up``; ``python -m zpanel.cli.supervisor PLAN`` is the background
form ``up --detach`` starts (see ``lifecycle.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zpanel.cli import procs, stackfile
from zpanel.cli.plan import Plan, ProcSpec
from zpanel.cli.probes import Prober


@dataclass
class Child:
    spec: ProcSpec
    proc: subprocess.Popen[bytes] | None = None
    ticks: int | None = None
    state: str = "pending"  # pending | starting | running | unhealthy | backoff | stopping | stopped
    restarts: int = 0
    quick_deaths: int = 0
    started_at: float = 0.0
    next_start: float = 0.0
    exit_code: int | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    def __init__(self, plan: Plan, *, echo: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self.echo = echo
        self.clock = clock
        self.children = [Child(spec) for spec in plan.procs]
        self.stopping = asyncio.Event()
        self._written = ""
        self._log_path = plan.logs / "supervisor.log"

    # --- logging and stack.json ----------------------------------------------------------------

    def log(self, message: str, child: Child | None = None) -> None:
        line = f"{datetime.now(UTC).isoformat(timespec='milliseconds')} supervisor: {message}\n"
        if not self.plan.home.is_dir():
            return
        self.plan.logs.mkdir(parents=True, exist_ok=True)
        with open(self._log_path, "a") as f:
            f.write(line)
        if child is not None:
            with open(self.plan.logs / f"{child.spec.name}.log", "a") as f:
                f.write(f"--- {line}")
        if self.echo:
            print(line.split(" ", 1)[1], end="", file=sys.stderr, flush=True)

    def document(self, *, running: bool = True) -> dict[str, Any]:
        info = self.plan.info
        me = os.getpid()
        return {
            "api_url": info.api_url,
            "dashboard_url": info.dashboard_url,
            "nats_url": info.nats_url,
            "proxy_http_port": info.proxy_http_port,
            "token": info.token,
            "services": [
                {
                    "name": c.spec.name,
                    "pid": c.proc.pid if c.alive and c.proc else None,
                    "state": c.state,
                    "restarts": c.restarts,
                    "ticks": c.ticks if c.alive else None,
                    "exit_code": c.exit_code,
                    "log": str(self.plan.logs / f"{c.spec.name}.log"),
                }
                for c in self.children
            ],
            "supervisor_pid": me if running else None,
            "supervisor_ticks": procs.start_ticks(me) if running else None,
            "home": str(self.plan.home),
        }

    def publish(self, *, running: bool = True) -> None:
        if not self.plan.home.is_dir():
            return
        doc = self.document(running=running)
        text = json.dumps(doc, sort_keys=True)
        if text != self._written:
            stackfile.write(self.plan.home, doc)
            self._written = text

    # --- lifecycle ----------------------------------------------------------------------------

    def _spawn(self, child: Child) -> None:
        spec = child.spec
        try:
            child.proc = procs.spawn(spec.argv, spec.env, self.plan.logs / f"{spec.name}.log", spec.cwd)
        except OSError as exc:  # a missing binary behaves like a process that died at once
            self.log(f"{spec.name}: cannot start {spec.argv[0]}: {exc.strerror or exc}", child)
            child.proc = None
            child.exit_code = 127
            self._schedule_restart(child)
            return
        child.ticks = procs.start_ticks(child.proc.pid)
        child.started_at = self.clock()
        child.state = "starting" if spec.probes else "running"
        self.log(f"{spec.name}: started pid {child.proc.pid}", child)

    def _schedule_restart(self, child: Child) -> None:
        ran = self.clock() - child.started_at if child.started_at else 0.0
        child.quick_deaths = 0 if ran >= self.plan.stable_after_s else child.quick_deaths + 1
        delay = min(self.plan.backoff_cap_s, self.plan.backoff_base_s * 2 ** max(0, child.quick_deaths - 1))
        child.next_start = self.clock() + delay
        child.state = "backoff"
        self.log(
            f"{child.spec.name}: exited with code {child.exit_code}; restart #{child.restarts + 1} in {delay:.2f}s",
            child,
        )

    def _reap(self) -> None:
        for child in self.children:
            if child.proc is not None and child.state not in ("stopping", "stopped"):
                code = child.proc.poll()
                if code is not None:
                    child.exit_code = code
                    child.proc = None
                    self._schedule_restart(child)

    def _restart_due(self) -> None:
        now = self.clock()
        for child in self.children:
            if child.state == "backoff" and now >= child.next_start:
                child.restarts += 1
                self._spawn(child)

    def _start_next(self) -> None:
        """Start pending processes in order; a gated one holds the rest until ready or timed out."""
        for child in self.children:
            if child.state != "pending":
                if (
                    child.spec.gate
                    and child.state != "running"
                    and self.clock() - child.started_at < self.plan.gate_timeout_s
                ):
                    return
                continue
            self._spawn(child)
            if child.spec.gate:
                return

    async def _probe_loop(self, prober: Prober) -> None:
        while not self.stopping.is_set():
            for child in self.children:
                if not child.spec.probes or not child.alive or child.state in ("stopping", "stopped"):
                    continue
                ok = all([await prober.check(p) for p in child.spec.probes])
                if not child.alive:
                    continue
                if ok:
                    child.state = "running"
                elif child.state == "running":
                    child.state = "unhealthy"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.plan.probe_interval_s)

    @property
    def ready(self) -> bool:
        return all(c.state == "running" for c in self.children)

    async def run(self, on_ready: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        self.log(f"started (pid {os.getpid()}) under {self.plan.home}")
        prober = Prober(self.plan.info.nats_url or None)
        probing = asyncio.create_task(self._probe_loop(prober))
        hook: asyncio.Task[None] | None = None
        try:
            while not self.stopping.is_set():
                if not self.plan.home.is_dir():  # its ZPANEL_HOME was deleted: nothing could find or stop it
                    print(f"supervisor: {self.plan.home} is gone; stopping", file=sys.stderr, flush=True)
                    break
                self._reap()
                self._restart_due()
                self._start_next()
                self.publish()
                if on_ready is not None and hook is None and self.ready:
                    hook = asyncio.create_task(on_ready())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), self.plan.tick_s)
        finally:
            self.stopping.set()
            if hook is not None and not hook.done():
                hook.cancel()
            await probing
            await prober.close()
            await self.stop_all()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    async def stop_all(self) -> None:
        self.log("stopping")
        ordinary = [c for c in self.children if not c.spec.gate]
        gated = [c for c in reversed(self.children) if c.spec.gate]
        await self._stop(ordinary)
        for child in gated:
            await self._stop([child])
        self.publish(running=False)
        self.log("stopped")

    async def _stop(self, children: list[Child]) -> None:
        live = [c for c in children if c.alive]
        for child in children:
            child.state = "stopping" if child.alive else "stopped"
        for child in live:
            assert child.proc is not None
            procs.signal_group(child.proc.pid, signal.SIGTERM)
        deadline = self.clock() + self.plan.stop_timeout_s
        while any(c.alive for c in live) and self.clock() < deadline:
            await asyncio.sleep(0.02)
        for child in live:
            assert child.proc is not None
            if child.proc.poll() is None:
                self.log(f"{child.spec.name}: did not stop in {self.plan.stop_timeout_s}s, killing it", child)
                procs.signal_group(child.proc.pid, signal.SIGKILL)
            child.exit_code = await asyncio.to_thread(child.proc.wait)
            child.proc = None
            child.state = "stopped"
            self.log(f"{child.spec.name}: stopped", child)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m zpanel.cli.supervisor PLAN_FILE", file=sys.stderr)
        return 2
    plan = Plan.from_json(Path(argv[0]).read_text())
    asyncio.run(Supervisor(plan).run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
