"""Every application, for the webhook route, without reading the bucket on each delivery.

A :class:`KvMirror` of the ``applications`` bucket keeps a copy in memory, a millisecond or so
behind the bucket. ``all(fresh=True)`` first brings the copy up to the bucket's last sequence, so
an application created or changed a moment ago, by this process or another, is seen; the route
asks for that only when the quick answer found nothing to deploy or no secret that verifies.
"""

from __future__ import annotations

from typing import Any

import structlog

from zpanel.bus import Bus
from zpanel.models import Application
from zpanel.state import State
from zpanel_webhook_gateway.kvmirror import KvMirror
from zpanel_webhook_gateway.matching import AppIndex

log = structlog.get_logger("zpanel.catalog")
BUCKET = "applications"


class AppCatalog:
    def __init__(self, bus: Bus, state: State, sync_timeout: float = 2.0) -> None:
        self.bus = bus
        self.state = state
        self._mirror = KvMirror(bus, BUCKET, self._on_entry, sync_timeout)
        self._apps: dict[str, Application] = {}
        self._generation = object()  # replaced on every change: tells a stale index
        self._index: AppIndex | None = None
        self._index_of: object | None = None

    async def all(self, fresh: bool = False) -> list[Application]:
        """The applications (``fresh``: as of now); reads the bucket itself if the watch is down."""
        if self._mirror.ensure_running():
            fresh = True
        if not fresh:
            return list(self._apps.values())
        try:
            await self._mirror.sync()
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
        if self._mirror.ensure_running():
            await self.all(fresh=True)
        found = self._apps.get(app_id)
        return found if found is not None else await self.state.apps.find(app_id)

    async def stop(self) -> None:
        await self._mirror.stop()

    def _on_entry(self, entry: Any) -> None:
        if entry.operation in ("DEL", "PURGE") or not entry.value:
            self._apps.pop(entry.key, None)
        else:
            try:
                self._apps[entry.key] = Application.model_validate_json(entry.value)
            except ValueError:
                log.warning("catalog.unreadable_application", key=entry.key)
        self._generation = object()
