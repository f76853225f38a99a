"""The probe loop on a fake clock: every timing rule checked in milliseconds."""

from __future__ import annotations

import asyncio

from tests.harness.clock import FakeClock
from zpanel.models import HealthSettings
from zpanel_health.checks.base import ProbeResult
from zpanel_health.errors import HealthError
from zpanel_health.probe import Failed, Passed, run_probe


def scripted(clock: FakeClock, answer, cost: float = 0.0):
    """A probe whose result depends on the fake time; each probe 'takes' ``cost`` seconds."""

    async def probe() -> ProbeResult:
        result = answer(clock.now)
        clock.now += cost
        return result

    return probe


OK = ProbeResult(True, "GET / answered 200")
DOWN = ProbeResult(False, "GET /: cannot connect to 127.0.0.1:1: Connection refused")


def settings(**kw) -> HealthSettings:
    return HealthSettings(**{"interval": 0.25, "timeout": 1.0, "retries": 3, "start_period": 1.0, **kw})


async def test_passes_on_first_probe_without_sleeping():
    clock = FakeClock()
    result = await run_probe(scripted(clock, lambda t: OK), settings(), clock, clock.sleep)
    assert result == Passed(probes=1, elapsed=0.0, detail="GET / answered 200")
    assert clock.sleeps == []


async def test_app_that_answers_at_0_6s_passes_at_the_next_probe():
    clock = FakeClock()
    result = await run_probe(scripted(clock, lambda t: OK if t >= 0.6 else DOWN), settings(), clock, clock.sleep)
    assert result == Passed(probes=4, elapsed=0.75, detail="GET / answered 200")
    assert clock.sleeps == [0.25, 0.25, 0.25]


async def test_failures_in_start_period_do_not_count_then_retries_fail():
    clock = FakeClock()
    result = await run_probe(scripted(clock, lambda t: DOWN), settings(), clock, clock.sleep)
    assert isinstance(result, Failed)
    assert (result.probes, result.elapsed) == (7, 1.5)
    assert result.reason == (
        "GET /: cannot connect to 127.0.0.1:1: Connection refused (3 failures in a row after a start "
        "period of 1s; 7 probes in 1.5s)"
    )


async def test_a_success_resets_the_failure_count():
    clock = FakeClock()
    answers = {1.0: DOWN, 1.25: DOWN, 1.5: OK, 1.75: DOWN, 2.0: DOWN}
    probe = scripted(clock, lambda t: answers.get(t, DOWN))
    result = await run_probe(probe, settings(successes=2), clock, clock.sleep)
    assert isinstance(result, Failed)
    assert (result.probes, result.elapsed) == (10, 2.25)


async def test_consecutive_successes_required_and_reset_by_a_failure():
    clock = FakeClock()
    answers = {0.0: OK, 0.25: DOWN, 0.5: OK, 0.75: OK}
    result = await run_probe(scripted(clock, lambda t: answers.get(t, DOWN)), settings(successes=2), clock, clock.sleep)
    assert result == Passed(probes=4, elapsed=0.75, detail="GET / answered 200")


async def test_fatal_result_fails_at_once_even_in_start_period():
    clock = FakeClock()
    crashed = ProbeResult(False, "the container exited with code 3: see its log lines", fatal=True)
    answers = {0.0: DOWN, 0.25: crashed}
    result = await run_probe(
        scripted(clock, lambda t: answers.get(t, OK)), settings(start_period=60), clock, clock.sleep
    )
    assert result == Failed("the container exited with code 3: see its log lines", probes=2, elapsed=0.25)


async def test_interval_counts_from_probe_start_so_slow_probes_keep_the_cadence():
    clock = FakeClock()
    result = await run_probe(
        scripted(clock, lambda t: OK if t >= 0.7 else DOWN, cost=0.1), settings(), clock, clock.sleep
    )
    assert result == Passed(probes=4, elapsed=0.85, detail="GET / answered 200")
    assert clock.sleeps == [0.15, 0.15, 0.15]


async def test_probe_longer_than_interval_starts_the_next_one_at_once():
    clock = FakeClock()
    result = await run_probe(
        scripted(clock, lambda t: OK if t >= 0.5 else DOWN, cost=0.375), settings(), clock, clock.sleep
    )
    assert result == Passed(probes=3, elapsed=1.125, detail="GET / answered 200")
    assert clock.sleeps == [0.0, 0.0]


async def test_hanging_probe_is_a_failure_after_timeout():
    clock = FakeClock()

    async def hang() -> ProbeResult:
        await asyncio.sleep(30)
        return OK

    seen: list[tuple[int, ProbeResult]] = []
    result = await run_probe(
        hang,
        settings(timeout=0.01, start_period=0, retries=1),
        clock,
        clock.sleep,
        observe=lambda n, r: seen.append((n, r)),
    )
    assert result == Failed(
        "no answer within 0.01s (1 failures in a row after a start period of 0s; 1 probes in 0.0s)", 1, 0.0
    )
    assert seen == [(1, ProbeResult(False, "no answer within 0.01s"))]


async def test_probe_errors_become_failed_probes_not_crashes():
    clock = FakeClock()
    calls = iter([HealthError("docker inspect abc failed: daemon down"), OSError("network unreachable")])

    async def flaky() -> ProbeResult:
        exc = next(calls, None)
        if exc is not None:
            raise exc
        return OK

    seen: list[str] = []
    result = await run_probe(flaky, settings(), clock, clock.sleep, observe=lambda n, r: seen.append(r.detail))
    assert result == Passed(probes=3, elapsed=0.5, detail="GET / answered 200")
    assert seen == ["docker inspect abc failed: daemon down", "network unreachable", "GET / answered 200"]
