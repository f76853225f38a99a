"""A deployment's life: requested, then one terminal event (CONTRACT §5)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Event
from zpanel.models import Trigger


class DeploymentRequested(Event):
    """Admitted work for the builder: the record with this id already exists in the KV bucket."""

    TYPE = "deployment.requested"
    type: Literal["deployment.requested"] = "deployment.requested"
    deployment_id: str
    app_id: str
    server_id: str
    trigger: Trigger
    commit: str | None = None
    image: str | None = Field(None, description="set for a rollback: reuse this image, build nothing")


class DeploymentCancelRequested(Event):
    TYPE = "deployment.cancel_requested"
    type: Literal["deployment.cancel_requested"] = "deployment.cancel_requested"
    deployment_id: str


class _Terminal(Event):
    deployment_id: str
    app_id: str
    server_id: str
    commit: str | None = None
    image: str | None = None
    duration_s: float | None = None
    reason: str | None = None
    log_tail: list[str] = Field(default_factory=list)
    url: str | None = None


class DeploymentSucceeded(_Terminal):
    TYPE = "deployment.succeeded"
    type: Literal["deployment.succeeded"] = "deployment.succeeded"


class DeploymentFailed(_Terminal):
    TYPE = "deployment.failed"
    type: Literal["deployment.failed"] = "deployment.failed"
    stage: str | None = None


class DeploymentRolledBack(_Terminal):
    TYPE = "deployment.rolled_back"
    type: Literal["deployment.rolled_back"] = "deployment.rolled_back"


class DeploymentCancelled(_Terminal):
    TYPE = "deployment.cancelled"
    type: Literal["deployment.cancelled"] = "deployment.cancelled"


class DeploymentSuperseded(_Terminal):
    TYPE = "deployment.superseded"
    type: Literal["deployment.superseded"] = "deployment.superseded"
    superseded_by: str | None = None


class PreviewTornDown(Event):
    TYPE = "preview.torn_down"
    type: Literal["preview.torn_down"] = "preview.torn_down"
    app_id: str
    server_id: str
    number: int
