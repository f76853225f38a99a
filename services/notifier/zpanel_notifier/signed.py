"""Signed JSON to plain HTTPS endpoints, in the Standard Webhooks format
(https://www.standardwebhooks.com), so receivers verify with an existing library.

The signature covers ``<webhook-id>.<webhook-timestamp>.<body>``; the id stays the same on
every retry of one delivery (receivers dedupe on it), the timestamp is fresh on each attempt
(receivers reject old ones).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zpanel.lazy import lazy_module
from zpanel_notifier.errors import SendError, TargetError
from zpanel_notifier.redaction import redact_urls

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")  # loaded on the first signed send

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
MIN_SECRET_BYTES = 16
USER_AGENT = "Zpanel-Notifier/1"

_PERMANENT_STATUSES = frozenset(range(400, 500)) - {408, 409, 425, 429}
"""A receiver that rejects the request itself (bad signature, gone, not found) will keep doing so;
timeouts, conflicts and rate limits pass with time."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret. The error never repeats the secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise TargetError(f"a signing secret must look like {SECRET_PREFIX}<base64>; generate one with zpanel")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise TargetError(f"the signing secret after {SECRET_PREFIX} is not valid base64") from None
    if len(key) < MIN_SECRET_BYTES:
        raise TargetError(f"the signing secret is too short: use at least {MIN_SECRET_BYTES} random bytes")
    return key


def body(document: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, msg_id: str, timestamp: int, payload: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, payload: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, payload),
    }


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    secret: str,
    msg_id: str,
    document: dict[str, Any],
    label: str,
    now: Callable[[], float],
) -> None:
    """One attempt. Raises ``SendError`` (retryable unless the receiver refused for good);
    ``label`` stands for the URL in every message."""
    payload = body(document)
    try:
        response = await client.post(url, content=payload, headers=headers(secret, msg_id, int(now()), payload))
    except httpx.TimeoutException as exc:
        # ``from None``: a chained httpx error carries the request, and so the URL, into tracebacks.
        raise SendError(f"{label}: no answer in time ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        detail = redact_urls(str(exc)) or type(exc).__name__
        raise SendError(f"{label}: cannot deliver ({detail})") from None
    if 200 <= response.status_code < 300:
        return
    raise SendError(
        f"{label}: the receiver answered HTTP {response.status_code}",
        retryable=response.status_code not in _PERMANENT_STATUSES,
    )
