"""Work slots: bounded heavy work inside a consumer that claims more, first come first served."""

from __future__ import annotations

import asyncio

from zpanel.slots import Slots, SlotsPer


async def test_two_slots_run_two_at_once_in_arrival_order_and_say_how_many_are_ahead() -> None:
    slots = Slots(2)
    gate = asyncio.Event()
    order: list[int] = []
    notes: list[tuple[int, int]] = []

    async def job(i: int) -> None:
        async def queued(ahead: int) -> None:
            notes.append((i, ahead))

        async with slots.hold(queued):
            order.append(i)
            await gate.wait()

    tasks = [asyncio.create_task(job(i)) for i in range(5)]
    await asyncio.sleep(0.05)
    assert (order, notes, slots.waiting) == ([0, 1], [(2, 0), (3, 1), (4, 2)], 3)
    gate.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert slots.waiting == 0


async def test_a_job_cancelled_while_queued_gives_its_place_up() -> None:
    slots = Slots(1)
    hold = asyncio.Event()

    async def first() -> None:
        async with slots.hold():
            await hold.wait()

    a = asyncio.create_task(first())
    await asyncio.sleep(0)
    b = asyncio.create_task(first())
    await asyncio.sleep(0.01)
    b.cancel()
    await asyncio.gather(b, return_exceptions=True)
    hold.set()
    await a
    notes: list[int] = []

    async def queued(ahead: int) -> None:
        notes.append(ahead)

    async with slots.hold(queued):  # free again: nobody in line
        assert slots.waiting == 0
    assert notes == []


def test_slots_per_key_are_separate() -> None:
    per = SlotsPer(4)
    assert per["a"] is per["a"]
    assert per["a"] is not per["b"]
    assert per["b"].size == 4
