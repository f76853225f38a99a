from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.harness.nats import free_port
from tests.notifier.conftest import Mailbox, Receiver
from zpanel.events import DeploymentFailed
from zpanel_notifier.channels import Channels
from zpanel_notifier.errors import SendError
from zpanel_notifier.messages import Notification, compose
from zpanel_notifier.targets import parse_target


def failed_note() -> Notification:
    event = DeploymentFailed(
        event_id="ev1",
        timestamp=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        deployment_id="dep1",
        app_id="app1",
        server_id="local",
        commit="0123456789abcdef",
        stage="health",
        duration_s=31.0,
        reason="GET / answered 502 three times",
        log_tail=["listening on :8080", "panic: db password s3cr3t rejected"],
    )
    return compose(event, "shop", redact=lambda s: s.replace("s3cr3t", "***"), dashboard_url="http://panel.test")


async def test_email_arrives_exactly_as_composed(mailbox: Mailbox) -> None:
    async with Channels(timeout=10) as channels:
        await channels.send(parse_target(mailbox.url()), failed_note(), "ntf_1")
    (mail,) = mailbox.mails
    assert (mail.mail_from, mail.rcpt_tos) == ("zpanel@example.com", ["ops@example.com"])
    message = mail.message
    assert (message["Subject"], message["From"], message["To"], message["X-Application"]) == (
        "shop: deployment failed",
        "Zpanel <zpanel@example.com>",
        "ops@example.com",
        "Zpanel",
    )
    assert message.get_content_type() == "text/plain"
    # SMTP carries lines ended by CRLF.
    assert message.get_content() == (
        "Deployment dep1 of shop failed during health after 31s.\n"
        "Reason: GET / answered 502 three times\n"
        "Commit: 0123456789ab\n"
        "Details: http://panel.test/deployments/dep1\n"
        "\n"
        "Last log lines:\n"
        "listening on :8080\n"
        "panic: db password *** rejected\n"
    ).replace("\n", "\r\n")


async def test_email_to_a_closed_port_fails_with_a_reason_and_no_password() -> None:
    port = free_port()
    target = parse_target(f"mailto://zpanel:SEKRIT@example.com?smtp=127.0.0.1&port={port}&to=ops@example.com")
    async with Channels(timeout=10) as channels:
        with pytest.raises(SendError) as err:
            await channels.send(target, failed_note(), "ntf_1")
    assert err.value.retryable is True
    assert str(err.value) == f'{target.label}: Connection error while submitting email to "127.0.0.1"'
    assert "SEKRIT" not in str(err.value)


async def test_signed_json_is_verified_by_the_receiver(make_receiver) -> None:
    receiver: Receiver = make_receiver()
    target = parse_target(f"{receiver.url}?zpanel_secret={receiver.secret}")
    note = failed_note()
    async with Channels(timeout=10) as channels:
        await channels.send(target, note, "ntf_abc")
    assert receiver.verified == [note.document]
    assert receiver.requests[0].headers["webhook-id"] == "ntf_abc"


async def test_signed_target_without_secret_is_refused_for_good(make_receiver) -> None:
    receiver: Receiver = make_receiver()
    target = parse_target(receiver.url)
    async with Channels(timeout=10) as channels:
        with pytest.raises(SendError) as err:
            await channels.send(target, failed_note(), "ntf_1")
    assert err.value.retryable is False
    assert str(err.value) == (
        f"{target.label}: this endpoint has no signing secret; add zpanel_secret=whsec_… to its URL "
        "(zpanel generates one when the target is added)"
    )
    assert receiver.requests == []


async def test_apprise_http_failure_reason_names_the_status_not_the_url(make_receiver) -> None:
    receiver: Receiver = make_receiver()  # refuses unsigned requests with 401
    port = receiver.url.split(":")[2].split("/")[0]
    target = parse_target(f"json://127.0.0.1:{port}/hooks/SEKRIT")
    async with Channels(timeout=10) as channels:
        with pytest.raises(SendError) as err:
            await channels.send(target, failed_note(), "ntf_1")
    assert len(receiver.requests) == 1
    assert str(err.value) == f"{target.label}: Failed to send JSON POST notification: Verification Failed., error=401."
    assert "SEKRIT" not in str(err.value)
