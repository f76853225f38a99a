"""The health stage: ``deploy.done.<server>`` → probe every new container from outside its image →
``health.passed`` or ``health.failed`` (with the container's last log lines).

Probes start at once and repeat every ``interval`` (250 ms by default), so a healthy app passes
within a fraction of a second of answering. For a remote server the probes leave from that
server: docker commands run over its SSH connection and TCP connections are SSH channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from zpanel import logstream
from zpanel.bus import Bus, Delivery
from zpanel.errors import SecretError
from zpanel.events import DeployDone, DeploymentCancelled, Event, HealthFailed, HealthPassed
from zpanel.models import Application, ContainerRef, HealthSettings, Server
from zpanel.remote.servers import Servers, target_for
from zpanel.secrets import Cipher, redactor
from zpanel.settings import Settings
from zpanel.state import State
from zpanel_health.checks import build_probe
from zpanel_health.checks.base import Connect, ProbeResult, open_tcp
from zpanel_health.logs import log_tail
from zpanel_health.probe import Failed, Passed, run_probe
from zpanel_health.runner import Completed, Runner, local_runner

log = structlog.get_logger("zpanel.health")


@dataclass(frozen=True)
class Reach:
    """How probes reach one server's containers."""

    runner: Runner
    connect: Connect


ReachFor = Callable[[Server], Awaitable[Reach]]


async def local_reach(server: Server) -> Reach:
    return Reach(local_runner, open_tcp)


def ssh_reach(cipher: Cipher, servers: Servers | None = None) -> ReachFor:
    """Probes of an SSH server leave from that server: docker commands through its executor,
    TCP connections as direct-tcpip channels of the same pooled connection."""
    pool = servers or Servers()

    async def reach_for(server: Server) -> Reach:
        if server.kind == "local":
            return await local_reach(server)
        key = cipher.open(server.private_key)
        executor = pool.executor(server, key)
        target = target_for(server, key)

        async def runner(argv: Sequence[str], *, timeout: float) -> Completed:
            result = await executor.run(list(argv), check=False, timeout=timeout)
            return Completed(result.returncode if result.returncode is not None else -1, result.out, result.err)

        async def connect(host: str, port: int) -> tuple[Any, Any]:
            conn = await pool.pool.connection(target)
            return await conn.open_connection(host, port)

        return Reach(runner, connect)

    return reach_for


class HealthWorker:
    def __init__(self, bus: Bus, reach_for: ReachFor = local_reach, cipher: Cipher | None = None) -> None:
        self.bus = bus
        self.state = State(bus)
        self.reach_for = reach_for
        self.cipher = cipher

    def redact(self, app: Application, lines: list[str]) -> list[str]:
        """A failing container's output may print its own secret env values: mask them before the
        lines travel on in events, logs and notifications."""
        if self.cipher is not None:
            for var in app.env:
                if var.secret:
                    with contextlib.suppress(SecretError):
                        self.cipher.open(var.value)  # registers the value with the redactor
        return [redactor(line) for line in lines]

    async def handle(self, event: Event, delivery: Delivery) -> None:
        if not isinstance(event, DeployDone):
            return
        dep = await self.state.deployments.get(event.deployment_id)
        if dep.status.terminal:
            return
        ids = {"deployment_id": dep.id, "app_id": dep.app_id, "server_id": dep.server_id}
        # past a rolling update's first batch traffic reaches new replicas: the deployer undoes it
        if dep.cancel_requested and event.batch == 1:
            await self.bus.publish(
                DeploymentCancelled(**ids, commit=dep.commit, reason="cancelled before the health check")
            )
            return
        app = dep.spec or await self.state.apps.get(dep.app_id)
        server = await self.state.servers.get(dep.server_id)
        reach = await self.reach_for(server)
        settings = app.health
        if settings.type == "http" and settings.host_header is None and app.domains:
            settings = settings.model_copy(update={"host_header": app.domains[0]})
        # the deployment, the containers checked and the rolling batch they are: passed on as they came
        same: dict[str, Any] = {**ids, "containers": event.containers, "batch": event.batch, "batches": event.batches}
        started = time.monotonic()
        results = await asyncio.gather(*(self._probe(dep.id, c, settings, reach) for c in event.containers))
        failed = [(c, r) for c, r in zip(event.containers, results, strict=True) if isinstance(r, Failed)]
        if failed:
            container, result = failed[0]
            tail = self.redact(app, await log_tail(reach.runner, container.id))
            reason = self.redact(app, [f"{container.name} failed its health check: {result.reason}"])[0]
            await logstream.append(self.bus, dep.id, "health", reason)
            await self.bus.publish(HealthFailed(**same, reason=reason, log_tail=tail))
            return
        probes = sum(r.probes for r in results if isinstance(r, Passed))
        elapsed = time.monotonic() - started
        await logstream.append(self.bus, dep.id, "health", f"healthy after {elapsed:.2f}s ({probes} probes)")
        await self.bus.publish(HealthPassed(**same, probes=probes, elapsed_s=elapsed, route=event.route))

    async def _probe(
        self, dep_id: str, container: ContainerRef, settings: HealthSettings, reach: Reach
    ) -> Passed | Failed:
        probe = build_probe(settings, container, reach.runner, reach.connect)
        last: list[str] = []

        def observe(n: int, result: ProbeResult) -> None:
            # only changes reach the log: a 250 ms loop would otherwise flood it
            if not last or last[0] != result.detail:
                last[:] = [result.detail]
                asyncio.get_running_loop().create_task(
                    logstream.append(self.bus, dep_id, "health", f"{container.name}: probe {n}: {result.detail}")
                )

        return await run_probe(probe, settings, time.monotonic, observe=observe)


async def setup(bus: Bus, settings: Settings, reach_for: ReachFor | None = None) -> HealthWorker:
    cipher = Cipher.from_home(settings.home, settings.secret_key)
    worker = HealthWorker(bus, reach_for or ssh_reach(cipher), cipher)
    await bus.consume_per_server(
        stage="health", event_types=["deploy.done"], handler=worker.handle, concurrency=settings.stage_claims
    )
    return worker
