"""Admission, supersede, projection and timeouts on a real nats-server (one per test, so the
projection consumer sees only this test's events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from nats.js.api import DeliverPolicy

from tests.harness.nats import NatsServer
from tests.shared.conftest import fast_settings
from zpanel import logstream
from zpanel.bus import Bus
from zpanel.events import (
    BuildDone,
    BuildFailed,
    BuildStarted,
    DeployDone,
    DeploymentRequested,
    DeploymentSucceeded,
    HealthPassed,
    ProxyUpdated,
    parse,
)
from zpanel.models import Application, ContainerRef, Deployment, Status, utcnow
from zpanel.state import State
from zpanel_webhook_gateway.conductor import Conductor
from zpanel_webhook_gateway.projection import Projection
from zpanel_webhook_gateway.sweeper import Sweeper


@dataclass
class Stack:
    bus: Bus
    state: State
    conductor: Conductor
    requested: asyncio.Queue[DeploymentRequested]


@pytest.fixture
async def stack(own_nats: NatsServer) -> AsyncIterator[Stack]:
    bus = await Bus.connect(fast_settings(own_nats.url), name="conductor-test")
    await bus.provision()
    state = State(bus)
    conductor = Conductor(bus, state)
    await Projection(bus, conductor).start()
    requested: asyncio.Queue[DeploymentRequested] = asyncio.Queue()

    async def on_requested(msg) -> None:  # type: ignore[no-untyped-def]
        event = parse(msg.data)
        assert isinstance(event, DeploymentRequested)
        await requested.put(event)

    await bus.js.subscribe(
        "deployment.requested.*", cb=on_requested, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    yield Stack(bus, state, conductor, requested)
    await bus.close()


def shop() -> Application:
    return Application(id="app1", name="shop", repo="https://git.example.com/acme/shop.git", server="local")


async def wait_status(state: State, dep_id: str, status: Status, timeout: float = 10) -> Deployment:
    for _ in range(int(timeout / 0.05)):
        dep = await state.deployments.get(dep_id)
        if dep.status is status:
            return dep
        await asyncio.sleep(0.05)
    raise AssertionError(f"{dep_id} is {dep.status}, not {status}")


async def test_one_at_a_time_and_newest_pending_supersedes_older(stack: Stack) -> None:
    app = shop()
    first = await stack.conductor.request(app, "push", commit="a" * 40)
    admitted = await asyncio.wait_for(stack.requested.get(), 5)
    assert (admitted.deployment_id, admitted.server_id, admitted.commit) == (first.id, "local", "a" * 40)

    second = await stack.conductor.request(app, "push", commit="b" * 40)
    third = await stack.conductor.request(app, "push", commit="c" * 40)
    superseded = await wait_status(stack.state, second.id, Status.SUPERSEDED)
    assert superseded.error == f"superseded by the newer deployment {third.id}"
    assert stack.requested.empty()  # nothing else admitted while the first runs
    assert (await stack.state.deployments.get(third.id)).status is Status.QUEUED

    await stack.bus.publish(DeploymentSucceeded(deployment_id=first.id, app_id=app.id, server_id="local"))
    await wait_status(stack.state, first.id, Status.SUCCEEDED)
    nxt = await asyncio.wait_for(stack.requested.get(), 5)
    assert nxt.deployment_id == third.id
    assert await stack.state.active(app.id) == third.id
    assert await stack.state.current(app.id) == first.id


async def test_redelivered_trigger_makes_no_second_deployment(stack: Stack) -> None:
    app = shop()
    a = await stack.conductor.request(app, "push", commit="a" * 40, deployment_id="fixed1")
    b = await stack.conductor.request(app, "push", commit="a" * 40, deployment_id="fixed1")
    assert a.id == b.id == "fixed1"
    await asyncio.wait_for(stack.requested.get(), 5)
    await asyncio.sleep(0.2)
    assert stack.requested.empty()
    assert [d.id for d in await stack.state.app_deployments(app.id)] == ["fixed1"]


async def test_projection_follows_the_stages_and_ignores_late_events(stack: Stack) -> None:
    app = shop()
    dep = await stack.conductor.request(app, "manual")
    ids = {"deployment_id": dep.id, "app_id": app.id, "server_id": "local"}
    c = ContainerRef(id="c1", name="shop-1", address="127.0.0.1:4000")
    await stack.bus.publish(BuildStarted(**ids, commit="d" * 40))
    await wait_status(stack.state, dep.id, Status.BUILDING)
    await stack.bus.publish(BuildDone(**ids, image="shop:dddddddddddd", commit="d" * 40))
    await stack.bus.publish(DeployDone(**ids, image="shop:dddddddddddd", containers=[c]))
    await wait_status(stack.state, dep.id, Status.HEALTH_CHECKING)
    await stack.bus.publish(BuildStarted(**ids, commit="d" * 40), msg_id="late-copy")  # late: no step back
    await stack.bus.publish(HealthPassed(**ids, containers=[c]))
    await wait_status(stack.state, dep.id, Status.ROUTING)
    await stack.bus.publish(ProxyUpdated(**ids, domains=["shop.localhost"]))
    await stack.bus.publish(DeploymentSucceeded(**ids))
    done = await wait_status(stack.state, dep.id, Status.SUCCEEDED)
    assert done.image == "shop:dddddddddddd" and done.commit == "d" * 40
    assert done.containers == [c]
    assert [(s.name, s.status) for s in done.stages] == [
        ("queue", "succeeded"),
        ("build", "succeeded"),
        ("deploy", "succeeded"),
        ("health", "succeeded"),
        ("route", "succeeded"),
        ("finish", "succeeded"),
    ]
    assert all(s.started_at and s.finished_at and s.finished_at >= s.started_at for s in done.stages[1:])
    lines = await logstream.history(stack.bus, dep.id)
    assert lines[-1].final and lines[-1].line == "deployment succeeded"


async def test_build_failure_fails_the_deployment_with_its_reason(stack: Stack) -> None:
    app = shop()
    dep = await stack.conductor.request(app, "push", commit="e" * 40)
    ids = {"deployment_id": dep.id, "app_id": app.id, "server_id": "local"}
    await stack.bus.publish(BuildStarted(**ids))
    await stack.bus.publish(BuildFailed(**ids, reason="Dockerfile:3: unknown instruction: FORM", log_tail=["FORM x"]))
    failed = await wait_status(stack.state, dep.id, Status.FAILED)
    assert failed.error == "Dockerfile:3: unknown instruction: FORM"
    assert await stack.state.active(app.id) is None  # the app is free for its next deployment


async def test_cancel_a_queued_deployment(stack: Stack) -> None:
    app = shop()
    await stack.conductor.request(app, "push", commit="a" * 40)
    waiting = await stack.conductor.request(app, "push", commit="b" * 40)
    await stack.conductor.cancel(waiting.id)
    cancelled = await wait_status(stack.state, waiting.id, Status.CANCELLED)
    assert cancelled.error == "cancelled while queued"


async def test_sweeper_fails_a_deployment_past_its_deadline(stack: Stack) -> None:
    app = shop()
    dep = await stack.conductor.request(app, "push", commit="f" * 40)
    later = utcnow() + timedelta(seconds=stack.bus.settings.deployment_timeout_s + 1)
    swept = await Sweeper(stack.bus, stack.state, clock=lambda: later).sweep()
    assert swept == [dep.id]
    failed = await wait_status(stack.state, dep.id, Status.FAILED)
    assert failed.error == "timed out after 1800s while queued (ZPANEL_DEPLOYMENT_TIMEOUT_S)"
    assert await Sweeper(stack.bus, stack.state, clock=lambda: later).sweep() == []


async def test_compaction_drops_the_markers_of_closed_deployments(stack: Stack) -> None:
    app = shop()
    dep = await stack.conductor.request(app, "push", commit="a" * 40)
    await stack.state.mark_closed(dep.id)
    before = await stack.bus.js.stream_info("KV_locks", subjects_filter="$KV.locks.open.>")
    assert f"$KV.locks.open.{dep.id}" in (before.state.subjects or {})  # the delete marker
    await Sweeper(stack.bus, stack.state).compact(older_than=-1)
    after = await stack.bus.js.stream_info("KV_locks", subjects_filter="$KV.locks.open.>")
    assert f"$KV.locks.open.{dep.id}" not in (after.state.subjects or {})
    assert await stack.state.open_deployments() == []
