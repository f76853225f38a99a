"""Every event Zpanel publishes, as pydantic models (no transport code here).

``parse`` turns a JSON document into the model its ``type`` names; ``CATALOGUE`` lists them all,
and ``docs/events.asyncapi.json`` is generated from it.
"""

from __future__ import annotations

from typing import Any

from zpanel.events.base import Batch, Event, FailureDetail, new_id
from zpanel.events.build import BuildDone, BuildFailed, BuildStarted
from zpanel.events.deploy import DeployDone, DeployFailed, DeployReverting, DeployStarted
from zpanel.events.deployment import (
    DeploymentCancelled,
    DeploymentCancelRequested,
    DeploymentFailed,
    DeploymentRequested,
    DeploymentRolledBack,
    DeploymentSucceeded,
    DeploymentSuperseded,
    PreviewTornDown,
)
from zpanel.events.dlq import DeadLetter
from zpanel.events.health import HealthFailed, HealthPassed
from zpanel.events.logs import LogLine
from zpanel.events.proxy import ProxyFailed, ProxyRestored, ProxyUpdated
from zpanel.events.push import PullRequestReceived, PushReceived, ScheduleFired
from zpanel.events.server import ServerUnreachable

CATALOGUE: dict[str, type[Event]] = {
    m.TYPE: m
    for m in (
        PushReceived,
        PullRequestReceived,
        ScheduleFired,
        DeploymentRequested,
        DeploymentCancelRequested,
        BuildStarted,
        BuildDone,
        BuildFailed,
        DeployStarted,
        DeployDone,
        DeployFailed,
        DeployReverting,
        HealthPassed,
        HealthFailed,
        ProxyUpdated,
        ProxyFailed,
        ProxyRestored,
        DeploymentSucceeded,
        DeploymentFailed,
        DeploymentRolledBack,
        DeploymentCancelled,
        DeploymentSuperseded,
        PreviewTornDown,
        ServerUnreachable,
        LogLine,
        DeadLetter,
    )
}

TERMINAL_EVENTS: tuple[type[Event], ...] = (
    DeploymentSucceeded,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentCancelled,
    DeploymentSuperseded,
)


class UnknownEventType(ValueError):
    pass


def parse(data: bytes | str | dict[str, Any]) -> Event:
    """Validate a document into the model its ``type`` names (pydantic.ValidationError if malformed)."""
    import json

    doc = data if isinstance(data, dict) else json.loads(data)
    if not isinstance(doc, dict):
        raise UnknownEventType("an event must be a JSON object")
    model = CATALOGUE.get(str(doc.get("type")))
    if model is None:
        raise UnknownEventType(f"unknown event type {doc.get('type')!r}; known: {', '.join(sorted(CATALOGUE))}")
    return model.model_validate(doc)


__all__ = [
    "CATALOGUE",
    "TERMINAL_EVENTS",
    "Batch",
    "BuildDone",
    "BuildFailed",
    "BuildStarted",
    "DeadLetter",
    "DeployDone",
    "DeployFailed",
    "DeployReverting",
    "DeployStarted",
    "DeploymentCancelRequested",
    "DeploymentCancelled",
    "DeploymentFailed",
    "DeploymentRequested",
    "DeploymentRolledBack",
    "DeploymentSucceeded",
    "DeploymentSuperseded",
    "Event",
    "FailureDetail",
    "HealthFailed",
    "HealthPassed",
    "LogLine",
    "PreviewTornDown",
    "ProxyFailed",
    "ProxyRestored",
    "ProxyUpdated",
    "PullRequestReceived",
    "PushReceived",
    "ScheduleFired",
    "ServerUnreachable",
    "UnknownEventType",
    "new_id",
    "parse",
]
