from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.harness.nats import NatsServer
from zpanel.bus import Bus
from zpanel.settings import Settings, load

MakeBus = Callable[..., Awaitable[Bus]]


def fast_settings(url: str, **over: object) -> Settings:
    base: dict[str, object] = {"nats_url": url, "retry_base_s": 0.2, "retry_cap_s": 2.0, "ack_wait_s": 2.0}
    base.update(over)
    return load(**base)


@pytest.fixture
async def make_bus(nats_server: NatsServer) -> AsyncIterator[MakeBus]:
    buses: list[Bus] = []

    async def make(url: str | None = None, **over: object) -> Bus:
        bus = await Bus.connect(fast_settings(url or nats_server.url, **over), name="test")
        await bus.provision()
        buses.append(bus)
        return bus

    yield make
    for b in buses:
        await b.close()


@pytest.fixture
async def bus(make_bus: MakeBus) -> Bus:
    return await make_bus()


@pytest.fixture
def uid() -> str:
    """A token unique to this test: stage names, server ids and app ids never collide across tests."""
    return uuid.uuid4().hex[:10]
