"""The switch: apply, verify, and restore the snapshot when verification fails."""

from __future__ import annotations

import pytest

from zpanel_proxy_sync.errors import VerifyFailed
from zpanel_proxy_sync.routes import AppRoute
from zpanel_proxy_sync.switch import Switched, switch
from zpanel_proxy_sync.verify import Verified

OLD = AppRoute("shop", ("shop.test",), ("127.0.0.1:4000",), "d1")
NEW = AppRoute("shop", ("shop.test",), ("127.0.0.1:4001",), "d2")


class MemoryBackend:
    name = "memory"

    def __init__(self, routes: dict[str, AppRoute]) -> None:
        self.routes = dict(routes)
        self.calls: list[str] = []

    async def snapshot(self, app):
        self.calls.append(f"snapshot {app}")
        return self.routes.get(app)

    async def apply(self, route):
        self.calls.append(f"apply {route.deployment_id}")
        self.routes[route.app] = route

    async def restore(self, app, snapshot):
        self.calls.append(f"restore {snapshot.deployment_id if snapshot else None}")
        if snapshot is None:
            self.routes.pop(app, None)
        else:
            self.routes[app] = snapshot

    async def remove(self, app):
        self.routes.pop(app, None)


async def test_verified_switch_keeps_the_new_routes():
    backend = MemoryBackend({"shop": OLD})
    ticks = iter([10.0, 10.25])

    async def ok(route):
        return Verified(3, 0.2)

    assert await switch(backend, NEW, ok, clock=lambda: next(ticks)) == Switched(0.25, 3)
    assert backend.routes == {"shop": NEW}
    assert backend.calls == ["snapshot shop", "apply d2"]


@pytest.mark.parametrize(("before", "after"), [({"shop": OLD}, {"shop": OLD}), ({}, {})])
async def test_failed_verification_restores_the_previous_routes(before, after):
    backend = MemoryBackend(before)

    async def fails(route):
        raise VerifyFailed("requests for shop.test did not reach deployment d2 within 10s (last: 502)")

    with pytest.raises(VerifyFailed) as info:
        await switch(backend, NEW, fails)
    assert str(info.value) == (
        "requests for shop.test did not reach deployment d2 within 10s (last: 502); "
        "the previous routes of 'shop' are restored"
    )
    assert backend.routes == after
    assert backend.calls[-1] == f"restore {'d1' if before else None}"
