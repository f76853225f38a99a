"""The four checks and how an application's HealthSettings become one probe."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from zpanel.models import ContainerRef, HealthSettings
from zpanel_health.checks.base import Connect, Probe, ProbeResult, open_tcp, split_address
from zpanel_health.checks.command import CommandCheck
from zpanel_health.checks.container import ContainerCheck, StableContainerCheck
from zpanel_health.checks.http import HttpCheck
from zpanel_health.checks.tcp import TcpCheck
from zpanel_health.errors import BadHealthSettings
from zpanel_health.runner import Runner

__all__ = ["AllOf", "Probe", "ProbeResult", "build_probe"]


@dataclass(frozen=True)
class AllOf:
    """Every probe must pass; the first failure is the answer (so the container guard, put first,
    turns a crashed container into an immediate, fatal failure)."""

    probes: tuple[Probe, ...]

    async def __call__(self) -> ProbeResult:
        last = ProbeResult(True, "no probe")
        for probe in self.probes:
            last = await probe()
            if not last.ok:
                return last
        return last


def build_probe(
    settings: HealthSettings,
    container: ContainerRef,
    runner: Runner,
    connect: Connect = open_tcp,
    docker: str = "docker",
    clock: Callable[[], float] = time.monotonic,
    stable_for: float = 1.0,
) -> Probe:
    """One probe for one container: the container guard, then the configured check.

    ``connect`` reaches ``container.address``: asyncio's for the local server, an SSH channel for a
    remote one (so the request leaves from that server, never from inside the image). The
    ``container`` type passes once the container has run ``stable_for`` seconds without a restart."""
    guard = ContainerCheck(container.id, runner, docker, timeout=settings.timeout)
    if settings.type == "container":
        return StableContainerCheck(guard, clock, window=stable_for)
    if settings.type == "command":
        if not settings.command:
            raise BadHealthSettings("a command health check needs a command, e.g. ['/app/healthcheck']")
        return AllOf((guard, CommandCheck(container.id, tuple(settings.command), runner, docker, settings.timeout)))
    host, port = split_address(container.address)
    if settings.type == "tcp":
        return AllOf((guard, TcpCheck(host, port, connect)))
    http = HttpCheck(
        host,
        port,
        path=settings.path,
        expected=settings.expected_status,
        body_contains=settings.body_contains,
        host_header=settings.host_header,
        connect=connect,
    )
    return AllOf((guard, http))
