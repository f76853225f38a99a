"""The probe loop: run a probe until it passes ``successes`` times in a row, or fails ``retries``
times in a row after the start period, or fails fatally. The probe, the clock and the sleep are
arguments, so the loop's tests run in milliseconds on a fake clock.

Probes start at once and repeat every ``interval`` (0.25 s by default), so a healthy app passes
within one interval of answering instead of after a fixed wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from zpanel.models import HealthSettings
from zpanel_health.checks.base import Probe, ProbeResult
from zpanel_health.errors import HealthError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Observer = Callable[[int, ProbeResult], None]


@dataclass(frozen=True)
class Passed:
    probes: int
    elapsed: float
    detail: str


@dataclass(frozen=True)
class Failed:
    reason: str
    probes: int
    elapsed: float


async def _one(probe: Probe, timeout: float) -> ProbeResult:
    try:
        return await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        return ProbeResult(False, f"no answer within {timeout:g}s")
    except (OSError, HealthError) as exc:
        return ProbeResult(False, str(exc))


async def run_probe(
    probe: Probe,
    settings: HealthSettings,
    clock: Clock,
    sleep: Sleep = asyncio.sleep,
    observe: Observer | None = None,
) -> Passed | Failed:
    """``observe(n, result)`` sees every probe result (for the deployment log)."""
    start = clock()
    probes = successes = failures = 0
    while True:
        began = clock()
        result = await _one(probe, settings.timeout)
        probes += 1
        if observe is not None:
            observe(probes, result)
        now = clock()
        if result.ok:
            successes, failures = successes + 1, 0
            if successes >= settings.successes:
                return Passed(probes, now - start, result.detail)
        else:
            successes = 0
            if result.fatal:
                return Failed(result.detail, probes, now - start)
            if now - start >= settings.start_period:
                failures += 1
                if failures >= settings.retries:
                    return Failed(
                        f"{result.detail} ({failures} failures in a row after a start period of "
                        f"{settings.start_period:g}s; {probes} probes in {now - start:.1f}s)",
                        probes,
                        now - start,
                    )
        await sleep(max(0.0, began + settings.interval - clock()))
