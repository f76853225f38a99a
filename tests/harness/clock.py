"""A fake clock for code that takes its clock and sleep as arguments: sleeping moves time on at
once, and the sleeps are kept (rounded to the microsecond) for the test to read."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
