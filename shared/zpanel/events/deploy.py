"""The deployer's events: the new version started (or did not)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Event, FailureDetail
from zpanel.models import ContainerRef


class _DeployEvent(Event):
    deployment_id: str
    app_id: str
    server_id: str


class DeployStarted(_DeployEvent):
    TYPE = "deploy.started"
    type: Literal["deploy.started"] = "deploy.started"
    image: str


class DeployDone(_DeployEvent):
    TYPE = "deploy.done"
    type: Literal["deploy.done"] = "deploy.done"
    image: str
    containers: list[ContainerRef]
    previous: list[ContainerRef] = Field(default_factory=list)


class DeployFailed(_DeployEvent, FailureDetail):
    TYPE = "deploy.failed"
    type: Literal["deploy.failed"] = "deploy.failed"
