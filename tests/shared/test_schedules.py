"""Scheduled work is the server's: a message schedule fires into its target subject."""

from __future__ import annotations

import asyncio

import pytest
from nats.js.api import DeliverPolicy

from tests.shared.conftest import MakeBus
from zpanel import schedules, subjects
from zpanel.errors import PermanentError
from zpanel.events import ScheduleFired, parse


def test_cron_becomes_six_fields() -> None:
    assert schedules.to_nats_schedule("*/5 * * * *") == "0 */5 * * * *"
    assert schedules.to_nats_schedule("@every 10m") == "@every 10m"
    assert schedules.to_nats_schedule("0 0 3 * * *") == "0 0 3 * * *"
    with pytest.raises(PermanentError, match="not a valid cron"):
        schedules.to_nats_schedule("61 * * * *")
    with pytest.raises(PermanentError, match="5 cron fields"):
        schedules.to_nats_schedule("* *")


async def test_every_second_schedule_fires_into_its_target_and_stops_when_removed(make_bus: MakeBus, uid: str) -> None:
    bus = await make_bus()
    app_id = f"app{uid}"
    fired: asyncio.Queue[ScheduleFired] = asyncio.Queue()

    async def on_fire(msg) -> None:  # type: ignore[no-untyped-def]
        event = parse(msg.data)
        assert isinstance(event, ScheduleFired)
        await fired.put(event)

    # firings are written into the stream only (no core-NATS copy): read them through JetStream
    sub = await bus.js.subscribe(
        subjects.schedule_fired(app_id), cb=on_fire, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    await schedules.set_schedule(bus, app_id, "@every 1s")
    first = await asyncio.wait_for(fired.get(), 5)
    second = await asyncio.wait_for(fired.get(), 5)
    assert first.app_id == second.app_id == app_id

    await schedules.remove_schedule(bus, app_id)
    await asyncio.sleep(0.2)
    while not fired.empty():
        fired.get_nowait()
    await asyncio.sleep(2.2)
    assert fired.empty()
    await sub.unsubscribe()
