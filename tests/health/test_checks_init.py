"""HealthSettings → one probe, with the container guard first; real containers for each type."""

from __future__ import annotations

import time

import pytest

from zpanel.models import ContainerRef, HealthSettings
from zpanel_health.checks import AllOf, build_probe
from zpanel_health.checks.command import CommandCheck
from zpanel_health.checks.container import ContainerCheck, StableContainerCheck
from zpanel_health.checks.http import HttpCheck
from zpanel_health.checks.tcp import TcpCheck
from zpanel_health.errors import BadHealthSettings
from zpanel_health.probe import Failed, Passed, run_probe
from zpanel_health.runner import local_runner

REF = ContainerRef(id="c1", name="web-1", address="127.0.0.1:4000")


def test_build_probe_shapes():
    http = build_probe(HealthSettings(path="/up", host_header="a.test", timeout=2), REF, local_runner)
    guard = ContainerCheck("c1", local_runner, timeout=2)
    assert http == AllOf((guard, HttpCheck("127.0.0.1", 4000, "/up", (200, 399), None, "a.test")))
    assert build_probe(HealthSettings(type="tcp", timeout=2), REF, local_runner) == AllOf(
        (guard, TcpCheck("127.0.0.1", 4000))
    )
    stable = build_probe(HealthSettings(type="container", timeout=2), REF, local_runner, stable_for=0.5)
    assert isinstance(stable, StableContainerCheck)
    assert (stable.check, stable.window) == (guard, 0.5)
    assert build_probe(HealthSettings(type="command", command=["true"], timeout=2), REF, local_runner) == AllOf(
        (guard, CommandCheck("c1", ("true",), local_runner, timeout=2))
    )


def test_command_check_without_command_is_rejected():
    with pytest.raises(BadHealthSettings):
        build_probe(HealthSettings(type="command"), REF, local_runner)


@pytest.mark.parametrize("kind", ["http", "tcp", "container", "command"])
async def test_each_type_passes_on_a_healthy_container(container, kind):
    ref = container()
    settings = HealthSettings(type=kind, command=["test", "-f", "/www/index.html"], start_period=10)
    probe = build_probe(settings, ContainerRef(id=ref.id, name=ref.name, address=ref.address), local_runner)
    assert isinstance(await run_probe(probe, settings, time.monotonic), Passed)


async def test_crashing_container_fails_http_check_at_once_not_after_start_period(container):
    ref = container(cmd=["sh", "-c", "sleep 0.3; exit 2"])
    settings = HealthSettings(start_period=60)
    probe = build_probe(settings, ContainerRef(id=ref.id, name=ref.name, address=ref.address), local_runner)
    result = await run_probe(probe, settings, time.monotonic)
    assert isinstance(result, Failed)
    assert result.reason == "the container exited with code 2: see its log lines"
