from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks import Webhook

from tests.notifier.conftest import Receiver
from zpanel_notifier import signed
from zpanel_notifier.errors import SendError, TargetError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DOC = {"event": "deployment.failed", "app": "shop", "note": "déjà vu"}


def test_signature_matches_the_reference_library() -> None:
    payload = signed.body(DOC)
    ours = signed.signature(SECRET, "ntf_1", 1_796_000_000, payload)
    theirs = Webhook(SECRET).sign("ntf_1", datetime.fromtimestamp(1_796_000_000, UTC), payload.decode())
    assert ours == theirs
    assert ours.startswith("v1,") and len(base64.b64decode(ours[3:])) == 32


def test_body_is_compact_utf8_json() -> None:
    assert signed.body(DOC) == '{"event":"deployment.failed","app":"shop","note":"déjà vu"}'.encode()


def test_headers() -> None:
    payload = signed.body(DOC)
    assert signed.headers(SECRET, "ntf_1", 1_796_000_000, payload) == {
        "content-type": "application/json",
        "user-agent": "Zpanel-Notifier/1",
        "webhook-id": "ntf_1",
        "webhook-timestamp": "1796000000",
        "webhook-signature": signed.signature(SECRET, "ntf_1", 1_796_000_000, payload),
    }


def test_new_secret_is_whsec_base64_of_32_bytes() -> None:
    secret = signed.new_secret()
    assert secret.startswith("whsec_")
    assert len(signed.decode_secret(secret)) == 32
    assert secret != signed.new_secret()


def test_decode_secret_never_echoes_it() -> None:
    with pytest.raises(TargetError) as err:
        signed.decode_secret("whsec_SEKRIT*")
    assert "SEKRIT" not in str(err.value)


async def _post(url: str, secret: str, now: float) -> None:
    async with httpx.AsyncClient() as client:
        await signed.post(client, url, secret=secret, msg_id="ntf_1", document=DOC, label="LABEL", now=lambda: now)


async def test_post_is_verified_by_a_real_receiver(make_receiver) -> None:
    receiver: Receiver = make_receiver()
    now = datetime.now(UTC).timestamp()
    await _post(receiver.url, receiver.secret, now)
    assert receiver.verified == [DOC]
    (request,) = receiver.requests
    assert (request.headers["webhook-id"], request.headers["webhook-timestamp"]) == ("ntf_1", str(int(now)))
    assert json.loads(request.body) == DOC


async def test_wrong_secret_is_refused_for_good(make_receiver) -> None:
    receiver: Receiver = make_receiver()
    with pytest.raises(SendError) as err:
        await _post(receiver.url, signed.new_secret(), datetime.now(UTC).timestamp())
    assert (str(err.value), err.value.retryable) == ("LABEL: the receiver answered HTTP 401", False)
    assert receiver.verified == []


@pytest.mark.parametrize("status", [500, 503, 429, 408])
async def test_server_errors_and_rate_limits_are_retryable(make_receiver, status: int) -> None:
    receiver: Receiver = make_receiver(status=status)
    with pytest.raises(SendError) as err:
        await _post(receiver.url, receiver.secret, datetime.now(UTC).timestamp())
    assert (str(err.value), err.value.retryable) == (f"LABEL: the receiver answered HTTP {status}", True)


async def test_refused_connection_is_retryable(closed_port_url: str) -> None:
    with pytest.raises(SendError) as err:
        await _post(closed_port_url, SECRET, 0)
    assert (str(err.value), err.value.retryable) == ("LABEL: cannot deliver (All connection attempts failed)", True)
    assert err.value.__cause__ is None
