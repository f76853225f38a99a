"""The health checker's events."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Batch, Event, FailureDetail
from zpanel.models import ContainerRef


class _HealthEvent(Event):
    deployment_id: str
    app_id: str
    server_id: str


class HealthPassed(_HealthEvent, Batch):
    TYPE = "health.passed"
    type: Literal["health.passed"] = "health.passed"
    containers: list[ContainerRef]
    probes: int = 0
    elapsed_s: float = 0.0
    route: list[ContainerRef] = Field(default_factory=list)  # deploy.done's: empty means ``containers``


class HealthFailed(_HealthEvent, FailureDetail, Batch):
    TYPE = "health.failed"
    type: Literal["health.failed"] = "health.failed"
    containers: list[ContainerRef]
