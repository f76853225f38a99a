"""A deployment's log: an append-only subject ``logs.<deployment_id>`` in the LOGS stream.

Any service appends (every line passes the secret redactor first); readers replay from the start
and then follow live until the line marked ``final``, which the projection writes when the
deployment reaches a terminal status.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from nats.js import api

from zpanel import subjects
from zpanel.bus import Bus
from zpanel.events import LogLine
from zpanel.secrets import redactor


async def append(
    bus: Bus, deployment_id: str, stage: str, line: str, stream: str = "system", *, final: bool = False
) -> None:
    event = LogLine(
        deployment_id=deployment_id,
        stage=stage,
        line=redactor(line.rstrip("\n")),
        stream=stream,  # type: ignore[arg-type]
        final=final,
    )
    await bus.publish(event)


class LogWriter:
    """``await writer("line")`` appends one line for a stage; pass it where a callback is wanted."""

    def __init__(self, bus: Bus, deployment_id: str, stage: str) -> None:
        self.bus = bus
        self.deployment_id = deployment_id
        self.stage = stage

    async def __call__(self, line: str, stream: str = "stdout") -> None:
        await append(self.bus, self.deployment_id, self.stage, line, stream)


class LinePump:
    """For code that reports lines through a plain callback (a subprocess reader): ``write`` queues
    without blocking, a task appends in order, ``close`` waits until every line is stored."""

    def __init__(self, bus: Bus, deployment_id: str, stage: str, stream: str = "stdout") -> None:
        self.writer = LogWriter(bus, deployment_id, stage)
        self.stream = stream
        self.tail: list[str] = []
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._drain())

    def write(self, line: str) -> None:
        self.tail = [*self.tail[-49:], redactor(line)]
        self._queue.put_nowait(line)

    async def _drain(self) -> None:
        while (line := await self._queue.get()) is not None:
            with contextlib.suppress(Exception):  # a lost log line must not fail the deployment
                await self.writer(line, self.stream)

    async def close(self) -> None:
        self._queue.put_nowait(None)
        await self._task


async def follow(
    bus: Bus, deployment_id: str, *, live: bool = True, idle_timeout: float | None = None
) -> AsyncIterator[LogLine]:
    """Every line so far, then (``live``) new ones until the final line; without ``live`` it stops
    at the end of what is stored now."""
    queue: asyncio.Queue[LogLine | None] = asyncio.Queue()

    async def on_msg(msg: object) -> None:
        from zpanel.events import parse

        data = msg.data  # type: ignore[attr-defined]
        event = parse(data)
        if isinstance(event, LogLine):
            await queue.put(event)
        if not live and msg.metadata.num_pending == 0:  # type: ignore[attr-defined]
            await queue.put(None)

    subject = subjects.logs(deployment_id)
    if not live and await _empty(bus, subject):
        return
    sub = await bus.js.subscribe(subject, cb=on_msg, ordered_consumer=True, deliver_policy=api.DeliverPolicy.ALL)
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=idle_timeout)
            except TimeoutError:
                return
            if item is None:
                return
            yield item
            if item.final:
                return
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def history(bus: Bus, deployment_id: str) -> list[LogLine]:
    return [line async for line in follow(bus, deployment_id, live=False)]


async def _empty(bus: Bus, subject: str) -> bool:
    try:
        await bus.js.get_msg("LOGS", subject=subject)
    except Exception:
        return True
    return False
