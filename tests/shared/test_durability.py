"""Crashes: a worker killed with SIGKILL mid-message, nats-server killed and restarted mid-stream."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.harness import procs
from tests.harness.nats import NatsServer
from tests.shared.conftest import MakeBus
from zpanel.bus import Delivery
from zpanel.events import BuildDone, Event


async def wait_for(predicate, timeout: float = 20.0, every: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)


async def test_worker_killed_mid_message_is_redelivered_and_completed_once(
    own_nats: NatsServer, make_bus: MakeBus, tmp_path: Path
) -> None:
    bus = await make_bus(own_nats.url)
    journal = tmp_path / "journal"
    journal.touch()
    env = {"ZPANEL_NATS_URL": own_nats.url, "ZPANEL_ACK_WAIT_S": "1", "ZPANEL_HOME": str(tmp_path)}
    args = ["-m", "tests.shared.worker_proc", "build.done.k1", str(journal)]
    first = procs.spawn(args, env, tmp_path / "w1.log")
    try:
        await wait_for(lambda: "ready" in journal.read_text())
        event = BuildDone(deployment_id="dk", app_id="a", server_id="k1", image="i:1")
        await bus.publish(event)
        await wait_for(lambda: "start" in journal.read_text())
        procs.kill9(first)  # mid-message: started, not done
        second = procs.spawn(args, env, tmp_path / "w2.log")
        try:
            await wait_for(lambda: "done" in journal.read_text())
            await asyncio.sleep(2.5)  # past another ack_wait: a missing ack would show as a third start
        finally:
            procs.terminate(second)
    finally:
        procs.kill9(first)
    lines = [line for line in journal.read_text().splitlines() if line != "ready"]
    assert lines == [f"start {event.event_id} 1", f"start {event.event_id} 2", f"done {event.event_id} 2"]


async def test_nats_server_killed_and_restarted_mid_stream_loses_nothing(
    own_nats: NatsServer, make_bus: MakeBus
) -> None:
    bus = await make_bus(own_nats.url)
    received: set[str] = set()

    async def handler(event: Event, delivery: Delivery) -> None:
        assert event.deployment_id
        received.add(event.deployment_id)

    await bus.consume(stage="restart", subjects=["build.done.n1"], handler=handler, concurrency=8)
    total = 200
    for i in range(total):
        if i == total // 2:
            own_nats.kill()
            asyncio.get_running_loop().call_later(0.5, own_nats.start)
        await bus.publish(BuildDone(deployment_id=f"d{i}", app_id="a", server_id="n1", image="i:1"))
    await wait_for(lambda: len(received) == total, timeout=30)
    assert received == {f"d{i}" for i in range(total)}
    info = await bus.js.stream_info("PIPELINE")
    assert info.state.messages == total  # retried publishes were deduplicated, none doubled
