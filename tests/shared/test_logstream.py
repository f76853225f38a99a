from __future__ import annotations

import asyncio

from tests.shared.conftest import MakeBus
from zpanel import logstream
from zpanel.secrets import Cipher


async def test_replay_then_follow_live_until_final(make_bus: MakeBus, uid: str) -> None:
    bus = await make_bus()
    dep = f"d{uid}"
    await logstream.append(bus, dep, "build", "step 1/3")
    await logstream.append(bus, dep, "build", "step 2/3")
    got: list[str] = []

    async def reader() -> None:
        async for line in logstream.follow(bus, dep):
            got.append(line.line)

    task = asyncio.create_task(reader())
    await asyncio.sleep(0.2)
    assert got == ["step 1/3", "step 2/3"]  # history first
    await logstream.append(bus, dep, "deploy", "container started")
    await logstream.append(bus, dep, "finish", "deployment succeeded", final=True)
    await asyncio.wait_for(task, 5)
    assert got == ["step 1/3", "step 2/3", "container started", "deployment succeeded"]
    assert [x.line for x in await logstream.history(bus, dep)] == got
    assert await logstream.history(bus, f"none{uid}") == []


async def test_secret_values_are_redacted_when_appended(make_bus: MakeBus, uid: str) -> None:
    bus = await make_bus()
    cipher = Cipher(Cipher.generate_key())
    secret = cipher.open(cipher.seal(f"canary-{uid}"))
    await logstream.append(bus, f"d{uid}", "build", f"DB_PASSWORD={secret}")
    [line] = await logstream.history(bus, f"d{uid}")
    assert line.line == "DB_PASSWORD=********"
