from __future__ import annotations

from datetime import UTC, datetime

import pytest

from zpanel.events import (
    DeploymentCancelled,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentSucceeded,
    PreviewTornDown,
    ScheduleFired,
    ServerUnreachable,
)
from zpanel_notifier.messages import MAX_LINE_CHARS, compose, format_duration, log_tail

WHEN = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
COMMON = {"event_id": "ev1", "timestamp": WHEN, "deployment_id": "dep1", "app_id": "app1", "server_id": "local"}
SECRET = "hunter2-token"


def redact(text: str) -> str:
    return text.replace(SECRET, "***")


def test_succeeded_with_link_url_and_duration() -> None:
    event = DeploymentSucceeded(
        **COMMON,
        commit="0123456789abcdef0123",
        image="zpanel/shop:0123456",
        duration_s=83.4,
        url="https://shop.example.com",
    )
    note = compose(event, "shop", redact=redact, dashboard_url="https://panel.example.com/")
    assert note.title == "shop: deployment succeeded"
    assert note.body == (
        "Deployment dep1 of shop succeeded after 1m 23s.\n"
        "Commit: 0123456789ab\n"
        "Live at: https://shop.example.com\n"
        "Details: https://panel.example.com/deployments/dep1"
    )
    assert note.severity == "success"
    assert (note.event_type, note.event_id, note.app_id) == ("deployment.succeeded", "ev1", "app1")
    assert note.document == {
        "version": 1,
        "event": "deployment.succeeded",
        "event_id": "ev1",
        "timestamp": "2026-11-27T09:30:00+00:00",
        "app": "shop",
        "app_id": "app1",
        "server": "local",
        "status": "succeeded",
        "deployment_id": "dep1",
        "deployment_url": "https://panel.example.com/deployments/dep1",
        "url": "https://shop.example.com",
        "commit": "0123456789abcdef0123",
        "image": "zpanel/shop:0123456",
        "stage": None,
        "duration_s": 83.4,
        "reason": None,
        "log_tail": [],
    }


def test_failed_carries_redacted_reason_and_log_tail() -> None:
    event = DeploymentFailed(
        **COMMON,
        commit="abc",
        stage="build",
        duration_s=4.25,
        reason=f"npm ci exited 1 (token {SECRET})",
        log_tail=["step 1/3", f"export TOKEN={SECRET}\n", "ERR! 404"],
    )
    note = compose(event, "shop", redact=redact)
    assert note.title == "shop: deployment failed"
    assert note.body == (
        "Deployment dep1 of shop failed during build after 4.2s.\n"
        "Reason: npm ci exited 1 (token ***)\n"
        "Commit: abc\n"
        "\n"
        "Last log lines:\n"
        "step 1/3\n"
        "export TOKEN=***\n"
        "ERR! 404"
    )
    assert note.severity == "failure"
    assert SECRET not in str(note.document)
    assert {k: note.document[k] for k in ("status", "stage", "reason", "log_tail", "deployment_url", "url")} == {
        "status": "failed",
        "stage": "build",
        "reason": "npm ci exited 1 (token ***)",
        "log_tail": ["step 1/3", "export TOKEN=***", "ERR! 404"],
        "deployment_url": None,
        "url": None,
    }


def test_rolled_back_and_cancelled() -> None:
    rolled = compose(DeploymentRolledBack(**COMMON, reason="health check failed: HTTP 502 on /"), "shop", redact=redact)
    assert (rolled.title, rolled.severity, rolled.document["status"]) == (
        "shop: deployment rolled back",
        "warning",
        "rolled_back",
    )
    assert rolled.body == "Deployment dep1 of shop was rolled back.\nReason: health check failed: HTTP 502 on /"
    cancelled = compose(DeploymentCancelled(**COMMON, duration_s=12.0), "shop", redact=redact)
    assert (cancelled.title, cancelled.body, cancelled.severity, cancelled.document["status"]) == (
        "shop: deployment cancelled",
        "Deployment dep1 of shop was cancelled after 12s.",
        "info",
        "cancelled",
    )


def test_preview_torn_down() -> None:
    event = PreviewTornDown(event_id="ev2", timestamp=WHEN, app_id="app1", server_id="local", number=17)
    note = compose(event, "shop", redact=redact)
    assert (note.title, note.body, note.severity) == (
        "shop: preview #17 torn down",
        "The preview of pull request #17 of shop was torn down.",
        "info",
    )
    assert note.document == {
        "version": 1,
        "event": "preview.torn_down",
        "event_id": "ev2",
        "timestamp": "2026-11-27T09:30:00+00:00",
        "app": "shop",
        "app_id": "app1",
        "server": "local",
        "status": "torn_down",
        "preview": 17,
    }


def test_server_unreachable_is_bound_to_no_app() -> None:
    event = ServerUnreachable(event_id="ev3", timestamp=WHEN, server_id="web-2", reason=f"ssh: auth {SECRET}")
    note = compose(event, None, redact=redact)
    assert (note.title, note.severity, note.app_id) == ("server web-2 unreachable", "failure", None)
    assert note.body == (
        "Zpanel cannot reach the server web-2: ssh: auth ***\nDeployments to it wait until it answers again."
    )
    assert note.document == {
        "version": 1,
        "event": "server.unreachable",
        "event_id": "ev3",
        "timestamp": "2026-11-27T09:30:00+00:00",
        "app": None,
        "app_id": None,
        "server": "web-2",
        "status": "unreachable",
        "reason": "ssh: auth ***",
    }


def test_app_id_stands_in_for_a_missing_name() -> None:
    assert compose(DeploymentCancelled(**COMMON), None, redact=redact).title == "app1: deployment cancelled"


def test_other_events_have_no_notification() -> None:
    with pytest.raises(ValueError, match=r"^no notification is defined for 'schedule\.fired' events$"):
        compose(ScheduleFired(app_id="app1"), "shop", redact=redact)


def test_log_tail_keeps_last_twenty_redacts_then_cuts() -> None:
    lines = [f"line {i}" for i in range(30)]
    assert log_tail(lines, redact) == [f"line {i}" for i in range(10, 30)]
    long = "x" * (MAX_LINE_CHARS - 4) + SECRET  # redacted first, so it fits without a cut
    assert log_tail([long], redact) == ["x" * (MAX_LINE_CHARS - 4) + "***"]
    assert log_tail(["y" * (MAX_LINE_CHARS + 10)], redact) == ["y" * (MAX_LINE_CHARS - 1) + "…"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0s"),
        (4.25, "4.2s"),
        (9.94, "9.9s"),
        (9.96, "10s"),
        (10.4, "10s"),
        (59.4, "59s"),
        (59.6, "1m 00s"),
        (185, "3m 05s"),
        (3725, "1h 02m"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
