"""Container status: ``docker inspect`` judged by exact value, then real containers that run,
exit, crash-loop and get OOM-killed."""

from __future__ import annotations

import re
import time

import pytest

from zpanel.models import HealthSettings
from zpanel_health.checks.base import ProbeResult
from zpanel_health.checks.container import ContainerCheck, StableContainerCheck, inspect_argv, judge_state
from zpanel_health.probe import Failed, run_probe
from zpanel_health.runner import local_runner


def state(restarts: int = 0, **kw) -> dict:
    base = {
        "Status": "running",
        "Running": True,
        "Paused": False,
        "Restarting": False,
        "OOMKilled": False,
        "ExitCode": 0,
    }
    return {"State": {**base, **kw}, "RestartCount": restarts}


def test_inspect_argv():
    assert inspect_argv("abc", "/usr/bin/docker") == ["/usr/bin/docker", "inspect", "--type", "container", "abc"]


@pytest.mark.parametrize(
    ("inspect", "result"),
    [
        (state(), ProbeResult(True, "the container is running")),
        (
            state(Status="created", Running=False),
            ProbeResult(False, "the container is not running yet (status created)"),
        ),
        (
            state(1, Status="restarting", Running=True, Restarting=True, ExitCode=1),
            ProbeResult(False, "the container is restarting (exit code 1)"),
        ),
        (
            state(2, Status="running", ExitCode=1),
            ProbeResult(False, "the container is in a restart loop: restarted 2 times, last exit code 1", True),
        ),
        (
            state(3, Status="running", ExitCode=0),  # inspected between two crashes
            ProbeResult(False, "the container is in a restart loop: restarted 3 times, running again for now", True),
        ),
        (
            state(Status="exited", Running=False, ExitCode=3),
            ProbeResult(False, "the container exited with code 3: see its log lines", True),
        ),
        (
            state(Status="exited", Running=False, OOMKilled=True, ExitCode=137),
            ProbeResult(
                False, "the container was killed for running out of memory (OOM): raise its memory limit", True
            ),
        ),
        (state(Status="paused", Paused=True), ProbeResult(False, "the container is paused")),
    ],
)
def test_judge_state(inspect, result):
    assert judge_state(inspect) == result


async def test_running_container_passes(container):
    ref = container(cmd=["sleep", "30"])
    assert await ContainerCheck(ref.id, local_runner)() == ProbeResult(True, "the container is running")


async def test_stable_check_waits_for_the_window_on_a_fake_clock(container):
    ref = container(cmd=["sleep", "30"])
    now = [0.0]
    probe = StableContainerCheck(ContainerCheck(ref.id, local_runner), clock=lambda: now[0], window=1.0)
    seen = []
    for t in (0.0, 0.5, 1.0):
        now[0] = t
        seen.append(await probe())
    assert seen == [
        ProbeResult(False, "the container is running, for 0.0s of the 1s required"),
        ProbeResult(False, "the container is running, for 0.5s of the 1s required"),
        ProbeResult(True, "the container has been running for 1.0s"),
    ]


async def test_exited_container_fails_fatally(container, run):
    ref = container(cmd=["sh", "-c", "exit 3"])
    run(["docker", "wait", ref.id])
    assert await ContainerCheck(ref.id, local_runner)() == ProbeResult(
        False, "the container exited with code 3: see its log lines", True
    )


async def test_missing_container_fails_fatally():
    assert await ContainerCheck("zp-health-never-existed", local_runner)() == ProbeResult(
        False, "the container zp-health-never-existed no longer exists", True
    )


async def test_restart_loop_fails_well_before_the_start_period_ends(container):
    ref = container(cmd=["sh", "-c", "exit 1"], extra=["--restart", "always"])
    probe = StableContainerCheck(ContainerCheck(ref.id, local_runner))
    result = await run_probe(probe, HealthSettings(start_period=60), time.monotonic)
    assert isinstance(result, Failed)
    # how many restarts and whether the crash's code is still in view depend on when inspect lands
    assert re.fullmatch(
        r"the container is in a restart loop: restarted \d+ times, (last exit code 1|running again for now)",
        result.reason,
    ), result.reason


async def test_oom_killed_container_fails_fatally(container, run):
    # 64 MB of a's into a shell variable under an 8 MB limit.
    ref = container(
        cmd=["sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\000' a); sleep 30"],
        extra=["--memory", "8m", "--memory-swap", "8m"],
    )
    run(["docker", "wait", ref.id])
    assert await ContainerCheck(ref.id, local_runner)() == ProbeResult(
        False, "the container was killed for running out of memory (OOM): raise its memory limit", True
    )
