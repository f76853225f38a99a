"""A thin client of Caddy's admin API, and the backend that switches an application's routes
through it: read ``/config/apps`` with its ETag, replace the app's routes (``caddy.with_app``),
PATCH it back with ``If-Match``. One PATCH is one atomic, graceful config reload; a concurrent
writer makes it fail with 412 and it is retried on the fresh config.

A switch reads the config once: the snapshot's read (with its ETag) serves the apply that follows;
the ETag makes that safe, a change in between fails the PATCH with 412 and it reads again. The
admin API is reached over one kept-alive connection per event loop (a fresh client per call
costs its SSL context and a connection each time)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zpanel.lazy import lazy_module
from zpanel_proxy_sync import caddy
from zpanel_proxy_sync.errors import ProxyError
from zpanel_proxy_sync.routes import AppRoute

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")  # only Caddy has an admin API to call: a Traefik stack never loads it

CAS_ATTEMPTS = 5


class Stale(ProxyError):
    """Caddy's configuration changed between our read and our write (HTTP 412)."""


@dataclass
class CaddyClient:
    admin_url: str
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    """Injected for a remote server (an SSH-forwarded port needs none: pass its local URL)."""

    _clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = field(default_factory=dict, repr=False)

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        for old in [lp for lp in self._clients if lp.is_closed()]:
            del self._clients[old]  # its connections died with the loop
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient(
                base_url=self.admin_url, timeout=self.timeout, transport=self.transport
            )
        return self._clients[loop]

    async def _send(self, method: str, path: str, body: Any = None, etag: str | None = None) -> httpx.Response:
        headers = {"If-Match": etag} if etag else {}
        try:
            resp = await self._client().request(method, path, json=body, headers=headers)
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

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


@dataclass
class CaddyBackend:
    client: CaddyClient
    name: str = field(default="caddy")
    _read: dict[str, tuple[Any, str | None]] = field(default_factory=dict, repr=False)
    """The config read by an app's snapshot, for the apply that follows it."""

    async def snapshot(self, app: str) -> dict[str, Any] | None:
        apps, etag = await self.client.get("/config/apps")
        self._read[app] = (apps, etag)
        return caddy.app_snapshot(apps or {}, app)

    async def _replace(self, app: str, routes: dict[str, list[dict[str, Any]]] | None) -> None:
        for attempt in range(CAS_ATTEMPTS):
            read = self._read.pop(app, None) if attempt == 0 else None
            apps, etag = read or await self.client.get("/config/apps")
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
