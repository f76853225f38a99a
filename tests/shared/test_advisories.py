"""A message whose worker dies on it every time never reaches an except-clause: the server's
MAX_DELIVERIES advisory (kept in the ADVISORIES stream) is what puts it in the DLQ."""

from __future__ import annotations

import asyncio
import contextlib

import nats.errors
from nats.js import api

from tests.shared.conftest import MakeBus
from tests.shared.test_bus import build_done, wait_letters
from zpanel.bus import AdvisoryMover


async def test_exhausted_deliveries_are_dead_lettered_from_the_advisory(make_bus: MakeBus, uid: str) -> None:
    bus = await make_bus()
    mover = AdvisoryMover(bus)
    await mover.start()
    stage = f"crash{uid}"
    subject = f"build.done.c{uid}"
    # a consumer like the bus makes, whose "worker" takes each delivery and dies without answering
    await bus.js.add_consumer(
        "PIPELINE",
        api.ConsumerConfig(
            durable_name=stage, filter_subject=subject, ack_policy=api.AckPolicy.EXPLICIT, ack_wait=0.5, max_deliver=2
        ),
    )
    sub = await bus.js.pull_subscribe_bind(durable=stage, stream="PIPELINE")
    await bus.publish(build_done(f"c{uid}", f"d{uid}"))
    for _ in range(2):
        [msg] = await sub.fetch(1, timeout=5)  # delivered, never acked: the worker "crashed"
        assert msg.metadata.num_delivered in (1, 2)
        await asyncio.sleep(0.6)
    # the next worker asks for work: the server finds the message out of deliveries and says so
    with contextlib.suppress(nats.errors.TimeoutError):
        await sub.fetch(1, timeout=1)
    [(_, letter)] = await wait_letters(bus, stage, 1)
    assert letter.subject == subject
    assert letter.num_delivered == 2
    assert letter.deployment_id == f"d{uid}"
    assert letter.reason == "delivered 2 times without an answer (the worker died or hung each time)"
    await mover.stop()
    await sub.unsubscribe()
