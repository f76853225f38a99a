"""The builder's events."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Event, FailureDetail


class _BuildEvent(Event):
    deployment_id: str
    app_id: str
    server_id: str


class BuildStarted(_BuildEvent):
    TYPE = "build.started"
    type: Literal["build.started"] = "build.started"
    commit: str | None = None


class BuildDone(_BuildEvent):
    TYPE = "build.done"
    type: Literal["build.done"] = "build.done"
    commit: str | None = None
    image: str
    digest: str | None = None
    cached: bool = Field(False, description="an image for this commit and build configuration existed")
    duration_s: float = 0.0


class BuildFailed(_BuildEvent, FailureDetail):
    TYPE = "build.failed"
    type: Literal["build.failed"] = "build.failed"
    commit: str | None = None
