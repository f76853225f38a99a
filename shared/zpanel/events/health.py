"""The health checker's events."""

from __future__ import annotations

from typing import Literal

from zpanel.events.base import Event, FailureDetail
from zpanel.models import ContainerRef


class _HealthEvent(Event):
    deployment_id: str
    app_id: str
    server_id: str


class HealthPassed(_HealthEvent):
    TYPE = "health.passed"
    type: Literal["health.passed"] = "health.passed"
    containers: list[ContainerRef]
    probes: int = 0
    elapsed_s: float = 0.0


class HealthFailed(_HealthEvent, FailureDetail):
    TYPE = "health.failed"
    type: Literal["health.failed"] = "health.failed"
    containers: list[ContainerRef]
