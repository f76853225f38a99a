"""Answers first, admission after.

The webhook route and the intake share one event loop. Under a burst, admitting deployments
(about 20 NATS round trips each: record, index, locks, supersede, and the projection's follow-up)
costs an order of magnitude more CPU than answering a webhook (verify, parse, one publish), and
admission can wait: the event is durably stored, the 202 already names the deployment, the API
shows it queued and the queue gauge counts it. So while webhooks are being answered, admission
goes one at a time, each waiting for a quiet moment for at most ``max_wait_s``: it never stops,
it yields. Once the route is quiet, the intake's full concurrency comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable


class Priority:
    def __init__(self, quiet_s: float = 0.05, max_wait_s: float = 0.25, clock: Callable[[], float] = time.monotonic):
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.answering = 0
        self._last = float("-inf")
        self._one: asyncio.Semaphore | None = None

    def enter(self) -> None:
        self.answering += 1

    def leave(self) -> None:
        self.answering -= 1
        self._last = self.clock()

    def busy(self) -> bool:
        return self.answering > 0 or self.clock() - self._last < self.quiet_s

    @contextlib.asynccontextmanager
    async def admission(self) -> AsyncIterator[None]:
        if not self.busy():
            yield
            return
        if self._one is None:
            self._one = asyncio.Semaphore(1)
        async with self._one:
            deadline = self.clock() + self.max_wait_s
            while self.busy() and self.clock() < deadline:
                await asyncio.sleep(self.quiet_s)
            yield
