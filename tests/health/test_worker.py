"""The health stage on real NATS with real containers: passed for a serving one, failed with the
container's own last log lines for one that never answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nats.js.api import DeliverPolicy

from tests.harness.nats import NatsServer
from tests.shared.conftest import fast_settings
from zpanel import logstream
from zpanel.bus import Bus
from zpanel.events import DeployDone, Event, HealthFailed, HealthPassed, parse
from zpanel.models import Application, ContainerRef, Deployment, HealthSettings, Server
from zpanel.state import State
from zpanel_health.worker import setup


@pytest.fixture
async def stage(own_nats: NatsServer) -> AsyncIterator[tuple[Bus, asyncio.Queue[Event]]]:
    bus = await Bus.connect(fast_settings(own_nats.url), name="health-test")
    await bus.provision()
    await State(bus).servers.put("local", Server(name="local", kind="local"))
    await setup(bus, bus.settings)
    out: asyncio.Queue[Event] = asyncio.Queue()

    async def on(msg: Any) -> None:
        await out.put(parse(msg.data))

    for s in ("health.passed.local", "health.failed.local"):
        await bus.js.subscribe(s, cb=on, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)
    yield bus, out
    await bus.close()


async def deploy_done(bus: Bus, ref: ContainerRef, health: HealthSettings) -> str:
    app = Application(id="a1", name="shop", repo="https://x/y.git", server="local", health=health)
    dep = Deployment(id=uuid.uuid4().hex, app_id="a1", app_name="shop", server_id="local", spec=app)
    await State(bus).create_deployment(dep)
    await bus.publish(DeployDone(deployment_id=dep.id, app_id="a1", server_id="local", image="i", containers=[ref]))
    return dep.id


async def test_a_serving_container_passes(
    stage: tuple[Bus, asyncio.Queue[Event]], container: Callable[..., Any]
) -> None:
    bus, out = stage
    started = container()
    ref = ContainerRef(id=started.id, name=started.name, address=started.address)
    dep_id = await deploy_done(bus, ref, HealthSettings(start_period=5))
    passed = await asyncio.wait_for(out.get(), 20)
    assert isinstance(passed, HealthPassed) and passed.deployment_id == dep_id
    assert passed.containers == [ref] and passed.probes >= 1
    lines = [x.line for x in await logstream.history(bus, dep_id)]
    assert lines[-1].startswith("healthy after ")


async def test_a_container_that_never_answers_fails_with_its_logs(
    stage: tuple[Bus, asyncio.Queue[Event]], container: Callable[..., Any]
) -> None:
    bus, out = stage
    started = container(cmd=["sh", "-c", "echo 'listening on 9999 instead'; exec httpd -f -p 9999 -h /www"])
    ref = ContainerRef(id=started.id, name=started.name, address=started.address)
    dep_id = await deploy_done(bus, ref, HealthSettings(start_period=0.5, retries=2, interval=0.1, timeout=1))
    failed = await asyncio.wait_for(out.get(), 20)
    assert isinstance(failed, HealthFailed) and failed.deployment_id == dep_id
    assert failed.reason.startswith(f"{started.name} failed its health check: ")
    assert failed.log_tail == ["listening on 9999 instead"]
