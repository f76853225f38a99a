"""Encoding and headers: the one place that knows how an event looks on the wire."""

from __future__ import annotations

from zpanel import subjects
from zpanel.events import (
    Batch,
    DeadLetter,
    Event,
    LogLine,
    PullRequestReceived,
    PushReceived,
    ScheduleFired,
)
from zpanel.telemetry import inject

MSG_ID = "Nats-Msg-Id"
EVENT_TYPE = "Zpanel-Event"


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()


def subject_for(event: Event) -> str:
    """Where an event goes when the caller does not say: server-bound events carry the server."""
    if isinstance(event, PushReceived):
        return subjects.PUSH_RECEIVED
    if isinstance(event, PullRequestReceived):
        return subjects.PULL_REQUEST_RECEIVED
    if isinstance(event, ScheduleFired):
        return subjects.schedule_fired(event.app_id)
    if isinstance(event, LogLine):
        return subjects.logs(event.deployment_id)
    if isinstance(event, DeadLetter):
        return subjects.dlq(event.stage)
    if not event.server_id:
        raise ValueError(f"{event.type} is server-bound: set server_id (or pass a subject)")
    return subjects.stage(event.type, event.server_id)


def msg_id_for(event: Event) -> str:
    """Deterministic where it matters: a stage that runs twice for one deployment (a redelivery)
    publishes the same id, and JetStream keeps one copy within the duplicate window."""
    if event.deployment_id and not isinstance(event, LogLine | DeadLetter):
        # a rolling update's later batches are events of their own (batch 1 keeps the plain id)
        batch = event.batch if isinstance(event, Batch) else 1
        return f"{event.type}:{event.deployment_id}" + (f":{batch}" if batch > 1 else "")
    # triggers: the gateway derives event_id from the provider's delivery id, so it is already stable
    return event.event_id


def headers_for(event: Event, msg_id: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    hdrs = {MSG_ID: msg_id or msg_id_for(event), EVENT_TYPE: event.type}
    if extra:
        hdrs.update(extra)
    return inject(hdrs)
