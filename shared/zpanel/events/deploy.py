"""The deployer's events: the new version started (or did not)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Batch, Event, FailureDetail
from zpanel.models import ContainerRef


class _DeployEvent(Event):
    deployment_id: str
    app_id: str
    server_id: str


class DeployStarted(_DeployEvent):
    TYPE = "deploy.started"
    type: Literal["deploy.started"] = "deploy.started"
    image: str


class DeployDone(_DeployEvent, Batch):
    """The new containers started so far (all of them, but for a rolling update's earlier batches),
    to be health-checked; ``route``: what the proxy sends the app's traffic to once they pass (empty:
    ``containers``; in a rolling update the new replicas so far plus the old ones not yet replaced)."""

    TYPE = "deploy.done"
    type: Literal["deploy.done"] = "deploy.done"
    image: str
    containers: list[ContainerRef]
    previous: list[ContainerRef] = Field(default_factory=list)
    route: list[ContainerRef] = Field(default_factory=list)


class DeployFailed(_DeployEvent, FailureDetail):
    TYPE = "deploy.failed"
    type: Literal["deploy.failed"] = "deploy.failed"


class DeployReverting(_DeployEvent, FailureDetail, Batch):
    """A rolling update failed after traffic already reached some new replicas: the old replicas it
    had stopped run again, and proxy-sync is asked to route back to ``route`` (the old version)
    before the new replicas are removed. ``outcome``: how the deployment ends once it has."""

    TYPE = "deploy.reverting"
    type: Literal["deploy.reverting"] = "deploy.reverting"
    route: list[ContainerRef]
    outcome: Literal["rolled_back", "cancelled"] = "rolled_back"
