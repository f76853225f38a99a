"""Admission yields to webhooks being answered: it waits for a quiet moment, bounded, never stops."""

from __future__ import annotations

import asyncio

from zpanel_webhook_gateway.priority import Priority


async def _admit(priority: Priority, log: list[str], name: str) -> None:
    async with priority.admission():
        log.append(name)


async def test_admission_waits_while_webhooks_are_answered() -> None:
    priority = Priority(quiet_s=0.01, max_wait_s=30)
    log: list[str] = []
    priority.enter()
    waiting = asyncio.create_task(_admit(priority, log, "admitted"))
    await asyncio.sleep(0.1)
    assert (log, waiting.done()) == ([], False)
    priority.leave()
    await asyncio.wait_for(waiting, 5)
    assert (log, priority.answering) == (["admitted"], 0)


async def test_admission_goes_on_when_the_wait_runs_out() -> None:
    priority = Priority(quiet_s=0.01, max_wait_s=0.05)
    log: list[str] = []
    priority.enter()  # a route that never finishes answering
    await asyncio.wait_for(asyncio.gather(*(_admit(priority, log, f"d{i}") for i in range(3))), 5)
    assert sorted(log) == ["d0", "d1", "d2"]


async def test_a_quiet_route_admits_at_once() -> None:
    priority = Priority(quiet_s=0.01, max_wait_s=30)
    log: list[str] = []
    await asyncio.wait_for(_admit(priority, log, "now"), 1)
    assert (priority.busy(), log) == (False, ["now"])
