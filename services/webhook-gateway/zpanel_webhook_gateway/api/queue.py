"""When is a server's queue full? When more than ``max_open_per_server`` deployments on it are
open (not yet terminal). The count comes from the ``open.*`` locks the conductor keeps, and is
reused for ``queue_cache_s`` so a burst of webhooks does not scan the bucket for each one."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from zpanel.state import State


class QueueGauge:
    def __init__(self, state: State, ttl: float) -> None:
        self.state = state
        self.ttl = ttl
        self._counts: Counter[str] = Counter()
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def open_on(self, server: str) -> int:
        async with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                self._counts = await self._count()
                self._at = time.monotonic()
            return self._counts[server]

    async def _count(self) -> Counter[str]:
        ids = await self.state.open_deployments()
        found = await asyncio.gather(*(self.state.deployments.find(i) for i in ids))
        return Counter(d.server_id for d in found if d is not None and not d.status.terminal)
