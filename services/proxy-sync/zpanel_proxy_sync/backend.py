"""What a switch needs from a proxy: take a snapshot of an app's routes, apply new ones, put a
snapshot back. Traefik (a file per app) and Caddy (a route per app in its admin API) both fit."""

from __future__ import annotations

from typing import Any, Protocol

from zpanel_proxy_sync.routes import AppRoute

Snapshot = Any
"""Opaque to callers: whatever the backend needs to restore an app's routes exactly (None: the
app had no route)."""


class ProxyBackend(Protocol):
    name: str

    async def snapshot(self, app: str) -> Snapshot: ...

    async def apply(self, route: AppRoute) -> None: ...

    async def restore(self, app: str, snapshot: Snapshot) -> None: ...

    async def remove(self, app: str) -> None: ...
