"""The verified switch: snapshot the app's routes, apply the new ones, verify from outside; if
verification fails, put the snapshot back, so the previous version keeps serving."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from zpanel_proxy_sync.backend import ProxyBackend
from zpanel_proxy_sync.errors import VerifyFailed
from zpanel_proxy_sync.routes import AppRoute
from zpanel_proxy_sync.verify import Verified


@dataclass(frozen=True)
class Switched:
    elapsed: float
    """From writing the routes to the first verified response from the new deployment."""
    attempts: int


async def switch(
    backend: ProxyBackend,
    route: AppRoute,
    check: Callable[[AppRoute], Awaitable[Verified]],
    clock: Callable[[], float] = time.monotonic,
) -> Switched:
    """``check(route)`` is normally ``lambda r: verify(fetch, r.domains, r.deployment_id)``."""
    before = await backend.snapshot(route.app)
    start = clock()
    await backend.apply(route)
    try:
        verified = await check(route)
    except VerifyFailed as exc:
        await backend.restore(route.app, before)
        raise VerifyFailed(f"{exc}; the previous routes of {route.app!r} are restored") from exc
    return Switched(clock() - start, verified.attempts)
