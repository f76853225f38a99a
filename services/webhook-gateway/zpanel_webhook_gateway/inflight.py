"""Deployments promised but not yet admitted.

The webhook route answers 202 with deployment ids as soon as JetStream has acknowledged the
``push.received`` / ``pull_request.received`` event; the intake consumer creates the records a
moment later (or, under a burst, some seconds later). Between the two, this process remembers
each promised deployment, so that:

- ``GET /api/v1/deployments/{id}`` answers ``queued`` (with the record admission will write)
  instead of a confusing 404;
- the queue gauge counts it toward its server's open deployments (429 stays honest under a burst).

An entry leaves when the queue gauge sees the deployment's ``open.<id>`` marker (admitted, by this
process or another), when this process's intake finishes with it, or after ``ttl`` seconds
(admitted elsewhere long ago, or a redelivery of a deployment that already ended).
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from zpanel.models import Deployment


class Promise(NamedTuple):  # a tuple: made once per webhook, on the hot path
    server_id: str
    at: float
    draft: Callable[[], Deployment]
    """Builds the record the intake will create; only called when the API is asked (not per webhook)."""


class InFlight:
    def __init__(self, ttl: float = 600.0, max_entries: int = 200_000, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._promised: OrderedDict[str, Promise] = OrderedDict()
        self._per_server: Counter[str] = Counter()

    def __len__(self) -> int:
        self._expire()
        return len(self._promised)

    def add(self, deployment_id: str, server_id: str, draft: Callable[[], Deployment]) -> None:
        self.discard(deployment_id)  # a redelivery renews its promise
        self._promised[deployment_id] = Promise(server_id, self.clock(), draft)
        self._per_server[server_id] += 1
        while len(self._promised) > self.max_entries:
            self.discard(next(iter(self._promised)))

    def discard(self, deployment_id: str) -> None:
        found = self._promised.pop(deployment_id, None)
        if found is not None:
            self._per_server[found.server_id] -= 1

    def get(self, deployment_id: str) -> Deployment | None:
        self._expire()
        found = self._promised.get(deployment_id)
        return found.draft() if found else None

    def on_server(self, server_id: str) -> int:
        self._expire()
        return self._per_server[server_id]

    def _expire(self) -> None:
        horizon = self.clock() - self.ttl
        while self._promised:
            oldest_id, oldest = next(iter(self._promised.items()))
            if oldest.at > horizon:
                return
            self.discard(oldest_id)
