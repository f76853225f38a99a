"""Every deployment reaches a terminal status within its timeout, whatever crashed on the way:
open deployments past their deadline are failed here (each gateway process sweeps; the
deterministic message id keeps it to one deployment.failed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import structlog

from zpanel.bus import Bus
from zpanel.events import DeploymentFailed
from zpanel.models import utcnow
from zpanel.state import State

log = structlog.get_logger("zpanel.sweeper")


class Sweeper:
    def __init__(self, bus: Bus, state: State, every: float = 15.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.bus = bus
        self.state = state
        self.every = every
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> list[str]:
        failed = []
        now = self.clock()
        for dep_id in await self.state.open_deployments():
            dep = await self.state.deployments.find(dep_id)
            if dep is None:
                await self.state.mark_closed(dep_id)
                continue
            if dep.status.terminal:
                await self.state.mark_closed(dep_id)
                continue
            if dep.deadline and now > dep.deadline:
                stage = next((s.name for s in dep.stages if s.status == "running"), None)
                limit = (dep.deadline - dep.created_at).total_seconds()
                await self.bus.publish(
                    DeploymentFailed(
                        deployment_id=dep.id,
                        app_id=dep.app_id,
                        server_id=dep.server_id,
                        commit=dep.commit,
                        image=dep.image,
                        stage=stage,
                        reason=f"timed out after {limit:.0f}s while {dep.status.value} (ZPANEL_DEPLOYMENT_TIMEOUT_S)",
                    )
                )
                failed.append(dep.id)
        return failed

    async def compact(self, older_than: float = 300) -> None:
        """Deleted keys leave a marker subject behind; the ``open.*`` and lock keys come and go
        with every deployment, so drop markers older than a few minutes to keep listings short."""
        for bucket in ("locks", "deployment_index"):
            kv = await self.bus.kv(bucket)
            await kv.purge_deletes(olderthan=int(older_than))

    async def _loop(self) -> None:
        rounds = 0
        while True:
            try:
                swept = await self.sweep()
                if swept:
                    log.warning("sweeper.timed_out", deployments=swept)
                if rounds % 40 == 0:
                    await self.compact()
            except Exception as exc:
                log.warning("sweeper.failed", error=str(exc))
            rounds += 1
            await asyncio.sleep(self.every)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
