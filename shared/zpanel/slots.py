"""Work slots: how much heavy work (a build, docker commands) one process runs at once.

A consumer *claims* many deliveries at once (its ``concurrency``), so a burst is picked up at once
and every claimed message is heartbeated; inside the handler the heavy part takes one of these
slots, first come first served. A deployment that waits for one says so in its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

OnWait = Callable[[int], Awaitable[None]]


class Slots:
    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.clock = clock
        self.waiting = 0
        self.held = 0
        self._sem = asyncio.Semaphore(size)

    @contextlib.asynccontextmanager
    async def hold(self, on_wait: OnWait | None = None) -> AsyncIterator[float]:
        """Run the body in a slot; yields the seconds waited for it. When every slot is taken,
        ``on_wait(n ahead)`` runs beside the wait (the place in line is taken first)."""
        started = self.clock()
        note: asyncio.Future[None] | None = None
        # our own count, not Semaphore.locked(): that walks every waiter, and a burst has hundreds
        if on_wait is not None and self.held + self.waiting >= self.size:
            note = asyncio.ensure_future(on_wait(self.waiting))
        self.waiting += 1
        try:
            await self._sem.acquire()
        except BaseException:
            if note is not None:
                note.cancel()
            raise
        finally:
            self.waiting -= 1
        self.held += 1
        try:
            if note is not None:
                with contextlib.suppress(Exception):
                    await note
            yield self.clock() - started
        finally:
            self.held -= 1
            self._sem.release()


class SlotsPer:
    """One :class:`Slots` of ``size`` per key (a server)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._by: dict[str, Slots] = {}

    def __getitem__(self, key: str) -> Slots:
        if key not in self._by:
            self._by[key] = Slots(self.size)
        return self._by[key]
