"""Verify a switch from outside: requests through the proxy, with each of the app's Host headers,
must come back from the new deployment (the proxy names it in ``X-Zpanel-Deployment``) and not as
a proxy error, within a bounded time."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zpanel.lazy import lazy_module
from zpanel_proxy_sync.errors import VerifyFailed
from zpanel_proxy_sync.routes import DEPLOYMENT_HEADER

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")  # loaded on the first route verified, not by an idle proxy-sync

Fetch = Callable[[str], Awaitable[tuple[int, str | None]]]
"""``await fetch(host) -> (status, deployment header or None)``; raises OSError/httpx errors."""

PROXY_ERRORS = (502, 503, 504)


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def _shared_client(timeout: float) -> httpx.AsyncClient:
    """One client per event loop: building one costs ~1.5 ms (its SSL context), several times a
    switch. No keep-alive: every attempt opens a fresh connection (~0.3 ms on loopback), so an
    attempt never lands on a connection the proxy is closing after a reload (Caddy closes idle
    ones), and the client holds nothing that needs closing."""
    by_timeout = _clients.setdefault(asyncio.get_running_loop(), {})
    if timeout not in by_timeout:
        # verify=False: the question is which upstream answers; local domains have self-signed certs.
        by_timeout[timeout] = httpx.AsyncClient(
            timeout=timeout,
            verify=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
    return by_timeout[timeout]


def httpx_fetch(
    proxy_url: str, path: str = "/", timeout: float = 2.0, client: httpx.AsyncClient | None = None
) -> Fetch:
    """A fetch through the proxy at ``proxy_url`` (e.g. ``http://127.0.0.1:80``, or the local end
    of an SSH-forwarded port for a remote server). Certificates are not checked: the point is
    which upstream answers, and local domains use self-signed ones."""
    url = proxy_url.rstrip("/") + path

    async def fetch(host: str) -> tuple[int, str | None]:
        c = client or _shared_client(timeout)
        resp = await c.get(url, headers={"Host": host})
        return resp.status_code, resp.headers.get(DEPLOYMENT_HEADER)

    return fetch


@dataclass(frozen=True)
class Verified:
    attempts: int
    elapsed: float


async def verify(
    fetch: Fetch,
    hosts: tuple[str, ...] | list[str],
    deployment_id: str,
    within: float = 10.0,
    interval: float = 0.005,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Verified:
    start = clock()
    attempts = 0
    for host in hosts:
        while True:
            attempts += 1
            try:
                status, served_by = await fetch(host)
                seen = f"{status} from deployment {served_by or '(no header)'}"
            except (OSError, httpx.HTTPError) as exc:
                status, served_by, seen = 0, None, f"no answer ({exc.__class__.__name__}: {exc})"
            if served_by == deployment_id and status not in PROXY_ERRORS:
                break
            if clock() - start >= within:
                raise VerifyFailed(
                    f"requests for {host} through the proxy did not reach deployment {deployment_id} within "
                    f"{within:g}s (last: {seen})"
                )
            await sleep(interval)
    return Verified(attempts, clock() - start)
