"""What a notification says: title, plain-text body and the JSON document, from one event.

Pure: no I/O, no clock. Everything a user did not write themselves (failure reasons, log lines)
goes through the caller's redactor before it lands in any of the three forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from zpanel.events import (
    DeploymentCancelled,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentSucceeded,
    Event,
    PreviewTornDown,
    ServerUnreachable,
)

Redactor = Callable[[str], str]
Severity = Literal["info", "success", "warning", "failure"]  # apprise's NotifyType values

DOCUMENT_VERSION = 1
MAX_LOG_LINES = 20
MAX_LINE_CHARS = 500
"""Chat channels cap message sizes; the full log stays one click away (deployment_url)."""

NOTIFIABLE: tuple[str, ...] = (
    DeploymentSucceeded.TYPE,
    DeploymentFailed.TYPE,
    DeploymentRolledBack.TYPE,
    DeploymentCancelled.TYPE,
    PreviewTornDown.TYPE,
    ServerUnreachable.TYPE,
)
"""The event types a notification exists for; targets choose among these."""

_DEPLOYMENT: dict[str, tuple[str, str, Severity]] = {
    # event type: (status in the document, verb in the text, severity)
    DeploymentSucceeded.TYPE: ("succeeded", "succeeded", "success"),
    DeploymentFailed.TYPE: ("failed", "failed", "failure"),
    DeploymentRolledBack.TYPE: ("rolled_back", "was rolled back", "warning"),
    DeploymentCancelled.TYPE: ("cancelled", "was cancelled", "info"),
}


@dataclass(frozen=True)
class Notification:
    event_type: str
    event_id: str
    app_id: str | None
    title: str
    body: str
    severity: Severity
    document: dict[str, Any]


def compose(
    event: Event,
    app_name: str | None,
    *,
    redact: Redactor,
    dashboard_url: str | None = None,
) -> Notification:
    """The notification for ``event``. ``app_name`` is None only for events bound to no app
    (a server that became unreachable). ``dashboard_url`` (the dashboard's base URL) makes the
    deployment's link; without it the link is left out."""
    if isinstance(event, DeploymentSucceeded | DeploymentFailed | DeploymentRolledBack | DeploymentCancelled):
        return _deployment(event, app_name or event.app_id, redact, dashboard_url)
    if isinstance(event, PreviewTornDown):
        return _preview(event, app_name or event.app_id)
    if isinstance(event, ServerUnreachable):
        return _server(event, redact)
    raise ValueError(f"no notification is defined for {event.type!r} events")


def _deployment(
    event: DeploymentSucceeded | DeploymentFailed | DeploymentRolledBack | DeploymentCancelled,
    app: str,
    redact: Redactor,
    dashboard_url: str | None,
) -> Notification:
    status, verb, severity = _DEPLOYMENT[event.type]
    stage = event.stage if isinstance(event, DeploymentFailed) else None
    reason = redact(event.reason) if event.reason else None
    tail = log_tail(event.log_tail, redact)
    link = f"{dashboard_url.rstrip('/')}/deployments/{event.deployment_id}" if dashboard_url else None

    title = f"{app}: deployment {status.replace('_', ' ')}"
    first = f"Deployment {event.deployment_id} of {app} {verb}"
    if stage:
        first += f" during {stage}"
    if event.duration_s is not None:
        first += f" after {format_duration(event.duration_s)}"
    lines = [first + "."]
    if reason:
        lines.append(f"Reason: {reason}")
    if event.commit:
        lines.append(f"Commit: {event.commit[:12]}")
    if event.url and status == "succeeded":
        lines.append(f"Live at: {event.url}")
    if link:
        lines.append(f"Details: {link}")
    if tail:
        lines += ["", "Last log lines:", *tail]

    document = _base(event, app, status) | {
        "deployment_id": event.deployment_id,
        "deployment_url": link,
        "url": event.url,
        "commit": event.commit,
        "image": event.image,
        "stage": stage,
        "duration_s": event.duration_s,
        "reason": reason,
        "log_tail": tail,
    }
    return Notification(event.type, event.event_id, event.app_id, title, "\n".join(lines), severity, document)


def _preview(event: PreviewTornDown, app: str) -> Notification:
    title = f"{app}: preview #{event.number} torn down"
    body = f"The preview of pull request #{event.number} of {app} was torn down."
    document = _base(event, app, "torn_down") | {"preview": event.number}
    return Notification(event.type, event.event_id, event.app_id, title, body, "info", document)


def _server(event: ServerUnreachable, redact: Redactor) -> Notification:
    reason = redact(event.reason)
    title = f"server {event.server_id} unreachable"
    body = f"Zpanel cannot reach the server {event.server_id}: {reason}\nDeployments to it wait until it answers again."
    document = _base(event, None, "unreachable") | {"reason": reason}
    return Notification(event.type, event.event_id, None, title, body, "failure", document)


def _base(event: Event, app: str | None, status: str) -> dict[str, Any]:
    return {
        "version": DOCUMENT_VERSION,
        "event": event.type,
        "event_id": event.event_id,
        "timestamp": event.timestamp.isoformat(),
        "app": app,
        "app_id": event.app_id,
        "server": event.server_id,
        "status": status,
    }


def log_tail(lines: list[str], redact: Redactor) -> list[str]:
    """The last ``MAX_LOG_LINES`` lines, redacted, each cut to ``MAX_LINE_CHARS``.

    Redaction runs before cutting, so a cut can never leave half a secret that no longer
    matches the redactor.
    """
    out = []
    for line in lines[-MAX_LOG_LINES:]:
        clean = redact(line.rstrip("\r\n"))
        out.append(clean if len(clean) <= MAX_LINE_CHARS else clean[: MAX_LINE_CHARS - 1] + "…")
    return out


def format_duration(seconds: float) -> str:
    """``4.2s``, ``42s``, ``3m 05s``, ``1h 02m``: short enough for a chat line."""
    if round(seconds, 1) < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
