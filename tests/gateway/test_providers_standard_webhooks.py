"""Standard Webhooks signatures (GitLab's signing token), checked against the spec's own example
and against the reference ``standardwebhooks`` library as an independent signer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from zpanel_webhook_gateway.providers import standard_webhooks

# The example in the Standard Webhooks specification.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature: str = SIGNATURE, stamp: int = STAMP, msg_id: str = MSG_ID) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def test_the_specification_example_verifies() -> None:
    assert standard_webhooks.verify(headers(), BODY, SECRET, now=STAMP) is True


def test_a_signature_from_the_reference_library_verifies() -> None:
    stamp = 1_800_000_000
    signature = Webhook(SECRET).sign("msg-2", datetime.fromtimestamp(stamp, tz=UTC), "{}")
    assert standard_webhooks.verify(headers(signature, stamp, "msg-2"), b"{}", SECRET, now=stamp + 10) is True


def test_any_of_several_signatures_may_match_during_key_rotation() -> None:
    rotated = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + SIGNATURE
    assert standard_webhooks.verify(headers(rotated), BODY, SECRET, now=STAMP) is True


@pytest.mark.parametrize(
    ("hdrs", "raw", "secret", "now"),
    [
        (headers(), BODY, SECRET, STAMP + 301),  # too old: a replay
        (headers(), BODY, SECRET, STAMP - 301),  # from the future
        (headers(), BODY + b" ", SECRET, STAMP),  # tampered body
        (headers(msg_id="msg_other"), BODY, SECRET, STAMP),  # the id is signed too
        (headers("v2," + SIGNATURE[3:]), BODY, SECRET, STAMP),  # unknown version
        (headers(), BODY, "whsec_" + "A" * 43, STAMP),  # another key
        (headers(), BODY, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", STAMP),  # not a whsec_ secret
        (headers(), BODY, "whsec_not base64!", STAMP),
        (headers() | {"webhook-timestamp": "soon"}, BODY, SECRET, STAMP),
        ({"webhook-signature": SIGNATURE}, BODY, SECRET, STAMP),
    ],
)
def test_rejects(hdrs: dict[str, str], raw: bytes, secret: str, now: float) -> None:
    assert standard_webhooks.verify(hdrs, raw, secret, now=now) is False
