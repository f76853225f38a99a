"""A thin client of Caddy's admin API, and the backend that switches an application's routes
through it: read ``/config/apps`` with its ETag, replace the app's routes (``caddy.with_app``),
PATCH it back with ``If-Match``. One PATCH is one atomic, graceful config reload; a concurrent
writer makes it fail with 412 and it is retried on the fresh config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from zpanel_proxy_sync import caddy
from zpanel_proxy_sync.errors import ProxyError
from zpanel_proxy_sync.routes import AppRoute

CAS_ATTEMPTS = 5


class Stale(ProxyError):
    """Caddy's configuration changed between our read and our write (HTTP 412)."""


@dataclass
class CaddyClient:
    admin_url: str
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    """Injected for a remote server (an SSH-forwarded port needs none: pass its local URL)."""

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.admin_url, timeout=self.timeout, transport=self.transport)

    async def _send(self, method: str, path: str, body: Any = None, etag: str | None = None) -> httpx.Response:
        headers = {"If-Match": etag} if etag else {}
        try:
            async with self._client() as client:
                resp = await client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ProxyError(f"Caddy's admin API at {self.admin_url} did not answer: {exc}; is Caddy running?") from exc
        if resp.status_code == 412:
            raise Stale(f"Caddy's configuration changed during {method} {path}")
        if resp.status_code >= 400:
            raise ProxyError(f"Caddy refused {method} {path}: {resp.status_code} {resp.text.strip()[:300]}")
        return resp

    async def get(self, path: str) -> tuple[Any, str | None]:
        resp = await self._send("GET", path)
        return resp.json(), resp.headers.get("etag")

    async def patch(self, path: str, body: Any, etag: str | None = None) -> None:
        await self._send("PATCH", path, body, etag)

    async def load(self, config: dict[str, Any]) -> None:
        await self._send("POST", "/load", config)


@dataclass
class CaddyBackend:
    client: CaddyClient
    name: str = field(default="caddy")

    async def snapshot(self, app: str) -> dict[str, Any] | None:
        apps, _ = await self.client.get("/config/apps")
        return caddy.app_snapshot(apps or {}, app)

    async def _replace(self, app: str, routes: dict[str, list[dict[str, Any]]] | None) -> None:
        for attempt in range(CAS_ATTEMPTS):
            apps, etag = await self.client.get("/config/apps")
            try:
                await self.client.patch("/config/apps", caddy.with_app(apps or {}, app, routes), etag)
                return
            except Stale:
                if attempt == CAS_ATTEMPTS - 1:
                    raise

    async def apply(self, route: AppRoute) -> None:
        await self._replace(route.app, caddy.app_routes(route))

    async def restore(self, app: str, snapshot: dict[str, Any] | None) -> None:
        await self._replace(app, snapshot["routes"] if snapshot else None)

    async def remove(self, app: str) -> None:
        await self._replace(app, None)
