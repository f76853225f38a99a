"""The container's last log lines, both streams, in order."""

from __future__ import annotations

from zpanel_health.checks.container import ContainerCheck
from zpanel_health.logs import log_tail, logs_argv, merge_streams
from zpanel_health.runner import local_runner


def test_logs_argv():
    assert logs_argv("abc", 5) == ["docker", "logs", "--timestamps", "--tail", "5", "abc"]


def test_merge_streams_orders_by_time_with_trimmed_nanoseconds():
    out = "2026-11-27T10:00:00.5Z starting\n2026-11-27T10:00:01.000000001Z listening\n"
    err = "2026-11-27T10:00:00.123456789Z warning: no config\n2026-11-27T10:00:02Z crashed\n"
    assert merge_streams(out, err) == ["warning: no config", "starting", "listening", "crashed"]
    assert merge_streams(out, err, lines=2) == ["listening", "crashed"]


async def test_log_tail_of_a_crashed_container(container, run):
    ref = container(
        cmd=[
            "sh",
            "-c",
            "echo booting; sleep 0.05; echo 'config missing: DATABASE_URL' >&2; sleep 0.05; echo bye; exit 1",
        ]
    )
    run(["docker", "wait", ref.id])
    assert (
        await ContainerCheck(ref.id, local_runner)()
    ).detail == "the container exited with code 1: see its log lines"
    assert await log_tail(local_runner, ref.id) == ["booting", "config missing: DATABASE_URL", "bye"]


async def test_log_tail_of_missing_container_is_empty():
    assert await log_tail(local_runner, "zp-health-never-existed") == []
