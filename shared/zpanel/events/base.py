"""The envelope every event shares. Models only: encoding and headers live in ``zpanel.bus``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from zpanel.models import utcnow


def new_id() -> str:
    return uuid.uuid4().hex


class Event(BaseModel):
    """A versioned event. ``type`` names the model; ``version`` its schema version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str] = ""
    type: str
    version: int = 1
    event_id: str = Field(default_factory=new_id)
    deployment_id: str | None = None
    app_id: str | None = None
    server_id: str | None = None
    timestamp: datetime = Field(default_factory=utcnow)


class FailureDetail(BaseModel):
    """Why a stage failed, with the last lines of output that show it (secrets already redacted)."""

    model_config = ConfigDict(frozen=True)

    reason: str
    log_tail: list[str] = Field(default_factory=list)


class Batch(BaseModel):
    """Where a deployment is in its batches: a rolling update of N replicas hands each replica to
    health and proxy-sync in turn (batch 1..N); every other strategy is one batch of one."""

    model_config = ConfigDict(frozen=True)

    batch: int = Field(1, ge=1)
    batches: int = Field(1, ge=1)
