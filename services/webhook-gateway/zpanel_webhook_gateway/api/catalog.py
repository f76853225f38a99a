"""Every application, for the webhook route, without reading the bucket on each delivery.

One long-lived watch of the ``applications`` bucket keeps a copy in memory, a millisecond or so
behind the bucket. ``all(fresh=True)`` first brings the copy up to the bucket's last sequence (a
stream-info request), so an application created or changed a moment ago, by this process or
another, is seen; the route asks for that only when the quick answer found nothing to deploy or
no secret that verifies. Listing the bucket per request instead costs a watch plus one read per
application, and each watch leaves an ephemeral consumer behind for a while.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from zpanel.bus import Bus
from zpanel.models import Application
from zpanel.state import State
from zpanel_webhook_gateway.matching import AppIndex

log = structlog.get_logger("zpanel.catalog")
BUCKET = "applications"
STREAM = f"KV_{BUCKET}"


class AppCatalog:
    def __init__(self, bus: Bus, state: State, sync_timeout: float = 2.0) -> None:
        self.bus = bus
        self.state = state
        self.sync_timeout = sync_timeout
        self._apps: dict[str, Application] = {}
        self._seen = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._generation = object()  # replaced on every change: tells a stale index
        self._index: AppIndex | None = None
        self._index_of: object | None = None

    async def all(self, fresh: bool = False) -> list[Application]:
        """The applications (``fresh``: as of now); reads the bucket itself if the watch is down."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch())
            fresh = True
        if not fresh:
            return list(self._apps.values())
        try:
            info = await self.bus.js.stream_info(STREAM)
            target = int(info.state.last_seq)
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._seen >= target), self.sync_timeout)
        except Exception as exc:
            log.warning("catalog.stale", error=type(exc).__name__)
            self._generation = object()  # the bucket's list, not the copy: no index of it is kept
            return await self.state.apps.all()
        return list(self._apps.values())

    async def index(self, fresh: bool = False) -> AppIndex:
        """The applications by repository (``fresh``: as of now), rebuilt only after a change."""
        generation = self._generation
        apps = await self.all(fresh)
        if generation is not self._generation:
            return AppIndex(apps)  # changed while reading, or read from the bucket itself
        if self._index is None or self._index_of is not generation:
            self._index, self._index_of = AppIndex(apps), generation
        return self._index

    async def get(self, app_id: str) -> Application | None:
        """One application by id; read from the bucket when the copy does not hold it (yet)."""
        if self._task is None or self._task.done():
            await self.all(fresh=True)
        found = self._apps.get(app_id)
        return found if found is not None else await self.state.apps.find(app_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _watch(self) -> None:
        kv = await self.bus.kv(BUCKET)
        watcher = await kv.watch(">")
        try:
            async for entry in watcher:
                if entry is None:
                    continue  # end of the initial values: the sequence check covers it
                if entry.operation in ("DEL", "PURGE") or not entry.value:
                    self._apps.pop(entry.key, None)
                else:
                    try:
                        self._apps[entry.key] = Application.model_validate_json(entry.value)
                    except ValueError:
                        log.warning("catalog.unreadable_application", key=entry.key)
                self._generation = object()
                async with self._changed:
                    self._seen = max(self._seen, int(entry.revision or 0))
                    self._changed.notify_all()
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()
