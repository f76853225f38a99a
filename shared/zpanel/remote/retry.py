"""Bounded exponential backoff for connecting to a server. Sleep and clock are passed in, so tests
control time and a gated sleep can hold a retry loop while another server's work runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Backoff:
    attempts: int = 4
    initial: float = 0.5
    factor: float = 2.0
    max_delay: float = 5.0
    sleep: Sleep = field(default=asyncio.sleep, compare=False)
    clock: Clock = field(default=time.monotonic, compare=False)

    def delays(self) -> list[float]:
        """The waits between attempts: ``attempts - 1`` of them."""
        return [min(self.initial * self.factor**i, self.max_delay) for i in range(max(self.attempts - 1, 0))]
