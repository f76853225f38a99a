"""The bus against a real nats-server: dedupe, retries with backoff, dead letters and replay,
per-server isolation, per-application serialisation."""

from __future__ import annotations

import asyncio
import itertools
import time

from tests.shared.conftest import MakeBus
from zpanel.bus import Bus, Delivery, Handler, KeyLock, list_letters, replay
from zpanel.errors import PermanentError, RetryableError
from zpanel.events import BuildDone, DeadLetter, Event


def build_done(server: str, dep: str, app: str = "app") -> BuildDone:
    return BuildDone(deployment_id=dep, app_id=app, server_id=server, image=f"img:{dep}")


async def count_on(bus: Bus, subject: str) -> int:
    info = await bus.js.stream_info("PIPELINE", subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


async def test_same_msg_id_twice_is_stored_once(bus: Bus, uid: str) -> None:
    event = build_done(f"s{uid}", f"d{uid}")
    first = await bus.publish(event)
    second = await bus.publish(event.model_copy(update={"event_id": "another"}))
    assert first == second
    assert await count_on(bus, f"build.done.s{uid}") == 1
    # a different deployment is a different message
    await bus.publish(build_done(f"s{uid}", f"e{uid}"))
    assert await count_on(bus, f"build.done.s{uid}") == 2


async def test_retryable_error_backs_off_then_dead_letters_and_replay_succeeds(bus: Bus, uid: str) -> None:
    attempts: list[float] = []
    healed = asyncio.Event()
    done: asyncio.Queue[int] = asyncio.Queue()

    async def handler(event: Event, delivery: Delivery) -> None:
        attempts.append(time.monotonic())
        if not healed.is_set():
            raise RetryableError("server s1 did not answer")
        await done.put(delivery.num_delivered)

    stage = f"st{uid}"
    await bus.consume(stage=stage, subjects=[f"build.done.r{uid}"], handler=handler)
    await bus.publish(build_done(f"r{uid}", f"d{uid}"))

    letters = await wait_letters(bus, stage, 1)
    assert len(attempts) == 3
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[1] > gaps[0], gaps
    seq, letter = letters[0]
    assert letter.stage == stage
    assert letter.subject == f"build.done.r{uid}"
    assert letter.num_delivered == 3
    assert letter.reason == "failed 3 times; last error: server s1 did not answer"
    assert letter.deployment_id == f"d{uid}"

    healed.set()
    await replay(bus, seq)
    assert await asyncio.wait_for(done.get(), 10) == 1
    assert await wait_letters(bus, stage, 0) == []


async def test_permanent_error_dead_letters_at_once(bus: Bus, uid: str) -> None:
    calls = 0

    async def handler(event: Event, delivery: Delivery) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("Dockerfile line 3: unknown instruction FORM")

    stage = f"pe{uid}"
    await bus.consume(stage=stage, subjects=[f"build.done.p{uid}"], handler=handler)
    await bus.publish(build_done(f"p{uid}", f"d{uid}"))
    letters = await wait_letters(bus, stage, 1)
    assert calls == 1
    assert letters[0][1].reason == "Dockerfile line 3: unknown instruction FORM"
    assert letters[0][1].num_delivered == 1


async def test_malformed_message_is_dead_lettered_not_retried(bus: Bus, uid: str) -> None:
    calls = 0

    async def handler(event: Event, delivery: Delivery) -> None:
        nonlocal calls
        calls += 1

    stage = f"mf{uid}"
    await bus.consume(stage=stage, subjects=[f"build.done.m{uid}"], handler=handler)
    await bus.publish_raw(f"build.done.m{uid}", b'{"type": "build.done", "image": 5}', {"Nats-Msg-Id": uid})
    letters = await wait_letters(bus, stage, 1)
    assert calls == 0
    assert letters[0][1].reason.startswith(f"malformed build.done.m{uid} message:")


async def test_blocked_server_does_not_delay_another(bus: Bus, uid: str) -> None:
    """Server A's handler hangs; server B's messages flow at normal speed meanwhile."""
    release_a = asyncio.Event()
    a_started = asyncio.Event()
    b_latency: list[float] = []
    sent_at: dict[str, float] = {}
    all_b = asyncio.Event()

    async def handler(event: Event, delivery: Delivery) -> None:
        if event.server_id == f"a{uid}":
            a_started.set()
            await release_a.wait()
            return
        assert event.deployment_id
        b_latency.append(time.monotonic() - sent_at[event.deployment_id])
        if len(b_latency) == 10:
            all_b.set()

    stage = f"ps{uid}"
    per = await bus.consume_per_server(stage=stage, event_types=["build.done"], handler=handler, concurrency=1)
    await per.add(f"a{uid}")
    await per.add(f"b{uid}")
    for i in range(3):  # A's queue fills behind its blocked handler
        await bus.publish(build_done(f"a{uid}", f"a{i}{uid}"))
    await asyncio.wait_for(a_started.wait(), 10)
    for i in range(10):
        dep = f"b{i}{uid}"
        sent_at[dep] = time.monotonic()
        await bus.publish(build_done(f"b{uid}", dep))
    await asyncio.wait_for(all_b.wait(), 10)
    assert not release_a.is_set()  # every B message completed while A was still blocked
    b_latency.sort()
    print(f"server B latency while A blocked: p50={b_latency[5] * 1000:.1f} ms max={b_latency[-1] * 1000:.1f} ms")
    release_a.set()


async def test_work_under_a_key_lock_never_runs_twice_at_once_for_one_key(make_bus: MakeBus, uid: str) -> None:
    """Two processes (two connections) share one stage consumer with 4 claims each, and hold a
    KeyLock on the application around the work (as the builder does per deployment): work for app X
    is serialised across both, while app Y still runs beside it."""
    intervals: dict[str, list[tuple[float, float]]] = {"x": [], "y": []}
    finished = asyncio.Event()
    total = 12

    def handler_for(lock: KeyLock) -> Handler:
        async def handler(event: Event, delivery: Delivery) -> None:
            assert event.app_id
            async with lock.hold(f"ser.{event.app_id}", delivery):
                start = time.monotonic()
                await asyncio.sleep(0.15)
                intervals[event.app_id[0]].append((start, time.monotonic()))
            if sum(len(v) for v in intervals.values()) == total:
                finished.set()

        return handler

    stage = f"ser{uid}"
    subject = f"build.done.x{uid}"
    for _ in range(2):
        worker = await make_bus()
        await worker.consume(stage=stage, subjects=[subject], handler=handler_for(KeyLock(worker)), concurrency=4)
    publisher = await make_bus()
    for i in range(total // 2):
        await publisher.publish(build_done(f"x{uid}", f"x{i}{uid}", app=f"x{uid}"))
        await publisher.publish(build_done(f"x{uid}", f"y{i}{uid}", app=f"y{uid}"))
    await asyncio.wait_for(finished.wait(), 30)

    def overlaps(spans: list[tuple[float, float]]) -> int:
        spans = sorted(spans)
        return sum(1 for (_, e1), (s2, _) in itertools.pairwise(spans) if s2 < e1)

    assert len(intervals["x"]) == total // 2
    assert overlaps(intervals["x"]) == 0
    assert overlaps(intervals["y"]) == 0
    both = intervals["x"] + intervals["y"]
    assert overlaps(both) > 0  # different applications did run side by side


async def wait_letters(bus: Bus, stage: str, n: int, timeout: float = 15) -> list[tuple[int, DeadLetter]]:
    deadline = time.monotonic() + timeout
    while True:
        letters = [(s, d) for s, d in await list_letters(bus, limit=10_000) if d.stage == stage]
        if len(letters) == n or time.monotonic() > deadline:
            assert len(letters) == n, letters
            return letters
        await asyncio.sleep(0.1)
