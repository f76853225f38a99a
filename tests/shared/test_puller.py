"""Credit-based pulling (zpanel/bus/puller.py) on a real nats-server: a burst is claimed at once,
never beyond the free claims, never delivered twice, across a nats-server restart and between two
connections sharing one durable consumer."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

from tests.harness.nats import NatsServer
from tests.shared.conftest import MakeBus
from zpanel.bus import Bus, Delivery
from zpanel.bus.consumer import Consumer
from zpanel.events import BuildDone, Event


async def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)


async def burst(bus: Bus, server: str, n: int, tag: str = "") -> list[str]:
    ids = [f"d{i}-{server}{tag}" for i in range(n)]
    await asyncio.gather(
        *(bus.publish(BuildDone(deployment_id=d, app_id="a", server_id=server, image="i:1")) for d in ids)
    )
    return ids


async def test_a_burst_is_claimed_at_once_and_slow_handlers_are_not_redelivered(bus: Bus, uid: str) -> None:
    """40 handlers that each outlast ack_wait (2 s): heartbeated from arrival, none delivered twice."""
    running: list[str] = []
    starts: list[tuple[str, int]] = []
    peak = 0

    async def handler(event: Event, delivery: Delivery) -> None:
        nonlocal peak
        assert event.deployment_id
        starts.append((event.deployment_id, delivery.num_delivered))
        running.append(event.deployment_id)
        peak = max(peak, len(running))
        await asyncio.sleep(bus.settings.ack_wait_s * 1.5)
        running.remove(event.deployment_id)

    c = await bus.consume(stage=f"slow{uid}", subjects=[f"build.done.{uid}"], handler=handler, concurrency=64)
    ids = await burst(bus, uid, 40)
    await wait_for(lambda: len(starts) == 40 and not running)
    await asyncio.sleep(bus.settings.ack_wait_s + 0.5)  # a lost heartbeat would show as a second delivery
    assert sorted(starts) == sorted((d, 1) for d in ids)
    assert peak == 40  # all claimed at once, not one round trip per message
    assert c.in_hand == 0


async def test_credit_never_exceeds_the_free_claims(bus: Bus, uid: str) -> None:
    """3 claims, 10 queued messages: exactly 3 in hand (the server agrees), the rest as claims free."""
    gate = asyncio.Event()
    started: list[str] = []
    finished: list[str] = []

    async def handler(event: Event, delivery: Delivery) -> None:
        assert event.deployment_id
        started.append(event.deployment_id)
        await gate.wait()
        finished.append(event.deployment_id)

    ids = await burst(bus, uid, 10)  # queued before the consumer exists
    c: Consumer = await bus.consume(
        stage=f"credit{uid}", subjects=[f"build.done.{uid}"], handler=handler, concurrency=3
    )
    await wait_for(lambda: len(started) == 3)
    await asyncio.sleep(1.0)  # a request for more than the free claims would deliver more by now
    info = await bus.js.consumer_info("PIPELINE", c.name)
    assert (len(started), c.in_hand, info.num_ack_pending) == (3, 3, 3)
    gate.set()
    await wait_for(lambda: len(finished) == 10)
    assert sorted(finished) == sorted(ids)
    assert Counter(started) == Counter(ids)


async def test_an_idle_consumer_keeps_one_request_open(bus: Bus, uid: str) -> None:
    async def handler(event: Event, delivery: Delivery) -> None:
        return None

    c: Consumer = await bus.consume(stage=f"idle{uid}", subjects=[f"build.done.{uid}"], handler=handler, concurrency=64)
    await asyncio.sleep(2.0)
    assert c._puller is not None
    assert (c._puller.requests_sent, c._puller.owed, c._puller.credit) == (1, 64, 0)


async def test_nats_restart_mid_burst_every_message_handled_once(own_nats: NatsServer, make_bus: MakeBus) -> None:
    """nats-server stopped and started while handlers hold messages and more are queued."""
    bus = await make_bus(own_nats.url, ack_wait_s=5.0)
    starts: list[tuple[str, int]] = []
    done: list[str] = []

    async def handler(event: Event, delivery: Delivery) -> None:
        assert event.deployment_id
        starts.append((event.deployment_id, delivery.num_delivered))
        await asyncio.sleep(0.1)
        done.append(event.deployment_id)

    c: Consumer = await bus.consume(stage="rs", subjects=["build.done.rs"], handler=handler, concurrency=4)
    ids = await burst(bus, "rs", 60)
    await wait_for(lambda: len(done) >= 12)
    own_nats.stop()
    await asyncio.sleep(0.5)
    own_nats.start()
    await wait_for(lambda: len(done) == 60, timeout=40)
    await asyncio.sleep(5.5)  # past ack_wait: an unacknowledged copy would come back
    assert sorted(starts) == sorted((d, 1) for d in ids)
    assert sorted(done) == sorted(ids)
    assert c.in_hand == 0


async def test_nats_killed_the_open_request_is_renewed(own_nats: NatsServer, make_bus: MakeBus) -> None:
    """kill -9 takes the consumer's open request with it, without a word: the next burst is still
    picked up (the request made before the reconnect is given up and made again)."""
    bus = await make_bus(own_nats.url, ack_wait_s=5.0)
    starts: list[tuple[str, int]] = []

    async def handler(event: Event, delivery: Delivery) -> None:
        assert event.deployment_id
        starts.append((event.deployment_id, delivery.num_delivered))

    c: Consumer = await bus.consume(stage="rk", subjects=["build.done.rk"], handler=handler, concurrency=64)
    first = await burst(bus, "rk", 10)
    await wait_for(lambda: len(starts) == 10)
    assert c._puller is not None and c._puller.owed == 54  # one request open, owing the rest
    await asyncio.sleep(3.0)  # the acks reach the consumer's store before the kill
    own_nats.kill()
    own_nats.start()
    await wait_for(lambda: bus.nc.is_connected, timeout=10)
    second = await burst(bus, "rk", 10, "-after")
    await wait_for(lambda: {d for d, _ in starts} >= set(second), timeout=20)
    assert sorted(starts) == sorted((d, 1) for d in first + second)


async def test_two_connections_share_a_burst(make_bus: MakeBus, uid: str) -> None:
    seen: dict[str, list[str]] = {"one": [], "two": []}

    def handler_for(who: str) -> Callable[[Event, Delivery], object]:
        async def handler(event: Event, delivery: Delivery) -> None:
            assert event.deployment_id
            seen[who].append(event.deployment_id)
            await asyncio.sleep(0.3)

        return handler

    publisher = await make_bus()
    for who in seen:
        b = await make_bus()
        await b.consume(stage=f"share{uid}", subjects=[f"build.done.{uid}"], handler=handler_for(who), concurrency=64)
    await asyncio.sleep(0.3)  # both have their request open
    ids = await burst(publisher, uid, 40)
    await wait_for(lambda: len(seen["one"]) + len(seen["two"]) == 40)
    await asyncio.sleep(0.5)
    assert sorted(seen["one"] + seen["two"]) == sorted(ids)  # each once, by one of them
    assert len(seen["one"]) > 0 and len(seen["two"]) > 0


async def test_a_stopping_process_hands_its_unfinished_claims_back_at_once(make_bus: MakeBus, uid: str) -> None:
    """Stopped past its grace, a consumer naks what it still holds: another process gets it at
    once, not after ack_wait (set long here, so only the hand-back can explain the delivery)."""
    first, second = await make_bus(ack_wait_s=60.0), await make_bus(ack_wait_s=60.0)
    release = asyncio.Event()
    got: list[tuple[str, int]] = []

    async def stuck(event: Event, delivery: Delivery) -> None:
        await release.wait()

    async def record(event: Event, delivery: Delivery) -> None:
        assert event.deployment_id
        got.append((event.deployment_id, delivery.num_delivered))

    a = await first.consume(stage=f"hand{uid}", subjects=[f"build.done.{uid}"], handler=stuck, concurrency=8)
    ids = await burst(first, uid, 3)
    await wait_for(lambda: a.in_hand == 3)
    await second.consume(stage=f"hand{uid}", subjects=[f"build.done.{uid}"], handler=record, concurrency=8)
    await a.stop(grace=0.2)
    await wait_for(lambda: len(got) == 3, timeout=10.0)
    assert sorted(got) == sorted((d, 2) for d in ids)
