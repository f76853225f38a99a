"""A lease lock on a key of the ``locks`` KV bucket, taken and renewed with compare-and-set.

Held around work that must not run twice at once for one key, across every process of a service:
the builder's build of one deployment (a redelivered copy waits for the first), the gateway's
admission for one application. A holder that dies stops renewing; its lease runs out after ``ttl``
and the next waiter takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

import nats.js.errors

if TYPE_CHECKING:
    from zpanel.bus.client import Bus


class Heartbeat(Protocol):
    async def in_progress(self) -> None: ...


class KeyLock:
    def __init__(self, bus: Bus, ttl: float = 30.0, poll: float = 0.01) -> None:
        self.bus = bus
        self.ttl = ttl
        self.poll = poll
        # waiters in this process queue on an asyncio lock first, so only one of them polls the
        # bucket and a release wakes the next one at once instead of after a poll interval
        self._local: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    def _value(self, owner: str) -> bytes:
        return json.dumps({"owner": owner, "expires": time.time() + self.ttl}).encode()

    async def _try(self, key: str, owner: str) -> int | None:
        kv = await self.bus.kv("locks")
        try:
            return int(await kv.create(key, self._value(owner)))
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        try:
            entry = await kv.get(key)
        except nats.js.errors.KeyNotFoundError:
            return None  # released between our two calls: try again
        held = json.loads(entry.value or b"{}")
        if held.get("owner") == owner or float(held.get("expires", 0)) < time.time():
            try:
                return int(await kv.update(key, self._value(owner), last=entry.revision))
            except nats.js.errors.KeyWrongLastSequenceError:
                return None
        return None

    @contextlib.asynccontextmanager
    async def hold(self, key: str, heartbeat: Heartbeat | None = None) -> AsyncIterator[None]:
        local = self._local.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with local, self._hold(key, heartbeat):
                yield
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                self._local.pop(key, None)

    @contextlib.asynccontextmanager
    async def _hold(self, key: str, heartbeat: Heartbeat | None) -> AsyncIterator[None]:
        owner = uuid.uuid4().hex
        last_beat = time.monotonic()
        while (rev := await self._try(key, owner)) is None:
            await asyncio.sleep(self.poll)
            if heartbeat and time.monotonic() - last_beat > self.ttl / 3:
                await heartbeat.in_progress()
                last_beat = time.monotonic()
        renew = asyncio.create_task(self._renew(key, owner, rev))
        try:
            yield
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            await self._release(key, owner)

    async def _renew(self, key: str, owner: str, rev: int) -> None:
        kv = await self.bus.kv("locks")
        while True:
            await asyncio.sleep(self.ttl / 3)
            with contextlib.suppress(Exception):
                rev = int(await kv.update(key, self._value(owner), last=rev))

    async def _release(self, key: str, owner: str) -> None:
        kv = await self.bus.kv("locks")
        with contextlib.suppress(Exception):
            entry = await kv.get(key)
            if json.loads(entry.value or b"{}").get("owner") == owner:
                await kv.delete(key, last=entry.revision)
