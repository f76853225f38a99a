"""When is a server's queue full? When more than ``max_open_per_server`` deployments on it are
open (not yet terminal).

The count is kept in memory, not read per webhook: one long-lived watch of the ``locks`` bucket
follows the ``open.<id>`` markers the conductor puts on admission (value: the server) and deletes
at the end. Deployments this process promised in a 202 but whose admission is still on its way
(``InFlight``) count too, so a burst cannot slip past the limit while the intake catches up.
The copy (a :class:`KvMirror`) is a few milliseconds behind the bucket; at most once per ``ttl``
seconds a webhook waits for it to reach the bucket's last sequence (one stream-info request)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

import structlog

from zpanel.bus import Bus
from zpanel.state import State
from zpanel_webhook_gateway.inflight import InFlight
from zpanel_webhook_gateway.kvmirror import KvMirror

log = structlog.get_logger("zpanel.queue")
BUCKET = "locks"
OPEN = "open."


class QueueGauge:
    def __init__(self, bus: Bus, state: State, inflight: InFlight, ttl: float, sync_timeout: float = 2.0) -> None:
        self.bus = bus
        self.state = state
        self.inflight = inflight
        self.ttl = ttl
        self._mirror = KvMirror(bus, BUCKET, self._on_entry, sync_timeout)
        self._open: dict[str, str] = {}  # deployment id -> server ("" until known)
        self._counts: Counter[str] = Counter()
        self._synced_at = float("-inf")
        self._resolving: set[asyncio.Task[None]] = set()

    async def open_on(self, server: str) -> int:
        if self._mirror.ensure_running():
            self._synced_at = float("-inf")
        if time.monotonic() - self._synced_at >= self.ttl:
            await self._sync()
        return self._counts[server] + self.inflight.on_server(server)

    async def stop(self) -> None:
        await self._mirror.stop()
        for task in list(self._resolving):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _sync(self) -> None:
        try:
            await self._mirror.sync()
        except Exception as exc:  # the count is a little stale: still the best there is
            # (also when the last message was compacted away and never comes: not again for ``ttl``)
            log.warning("queue.stale", error=type(exc).__name__)
        self._synced_at = time.monotonic()

    def _on_entry(self, entry: Any) -> None:
        if entry.key.startswith(OPEN):
            dep_id = entry.key[len(OPEN) :]
            if entry.operation in ("DEL", "PURGE") or not entry.value:
                self._close(dep_id)
            else:
                self._opened(dep_id, entry.value.decode())

    def _opened(self, dep_id: str, value: str) -> None:
        self.inflight.discard(dep_id)  # admitted (here or by another gateway process)
        if dep_id in self._open:
            return
        server = "" if value == "1" else value  # "1": a marker written by state.mark_open
        self._open[dep_id] = server
        if server:
            self._counts[server] += 1
        else:
            task = asyncio.create_task(self._resolve(dep_id))
            self._resolving.add(task)
            task.add_done_callback(self._resolving.discard)

    def _close(self, dep_id: str) -> None:
        server = self._open.pop(dep_id, None)
        if server:
            self._counts[server] -= 1

    async def _resolve(self, dep_id: str) -> None:
        dep = await self.state.deployments.find(dep_id)
        if dep is not None and self._open.get(dep_id) == "" and not dep.status.terminal:
            self._open[dep_id] = dep.server_id
            self._counts[dep.server_id] += 1
