"""Custom command check via ``docker exec`` in real containers."""

from __future__ import annotations

from zpanel_health.checks.base import ProbeResult
from zpanel_health.checks.command import CommandCheck, exec_argv, judge_exit
from zpanel_health.runner import local_runner


def test_exec_argv():
    assert exec_argv("abc", ["pg_isready", "-q"]) == ["docker", "exec", "abc", "pg_isready", "-q"]


def test_judge_exit_shows_last_line_of_output():
    assert judge_exit(["check"], 2, "", "starting\nnot ready: db down\n") == ProbeResult(
        False, "`check` exited 2: not ready: db down"
    )


async def test_zero_exit_passes_and_nonzero_fails(container, until_passed):
    ref = container()
    passed = await until_passed(CommandCheck(ref.id, ("test", "-f", "/www/index.html"), local_runner))
    assert passed.detail == "`test -f /www/index.html` exited 0"
    failing = CommandCheck(ref.id, ("sh", "-c", "echo db not ready >&2; exit 4"), local_runner)
    assert await failing() == ProbeResult(False, "`sh -c echo db not ready >&2; exit 4` exited 4: db not ready")


async def test_command_missing_from_image_fails_fatally_with_advice(container, no_client_image, until_passed):
    ref = container(image=no_client_image, cmd=[])
    await until_passed(CommandCheck(ref.id, ("/httpd", "true"), local_runner))
    assert await CommandCheck(ref.id, ("curl", "-f", "http://localhost:8080/"), local_runner)() == ProbeResult(
        False,
        "`curl -f http://localhost:8080/` is not in the image: use an HTTP or TCP check (they run from outside the image)",
        True,
    )
