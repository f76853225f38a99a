"""Standard Webhooks signatures (https://www.standardwebhooks.com), as GitLab's signing token uses.

The sender signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 under the key that
the secret ``whsec_<base64>`` encodes, and sends ``webhook-signature: v1,<base64> [v1,<base64> …]``
(several while a key is being rotated). A timestamp far from now is refused, so a captured
request cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from zpanel_webhook_gateway.providers.base import first_header

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every such secret)
TOLERANCE_S = 300
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def is_signed(headers: Mapping[str, str]) -> bool:
    return first_header(headers, SIGNATURE_HEADER) is not None


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str, now: float | None = None) -> bool:
    key = _key(secret)
    msg_id = first_header(headers, ID_HEADER)
    stamp = first_header(headers, TIMESTAMP_HEADER)
    given = first_header(headers, SIGNATURE_HEADER)
    if key is None or not msg_id or not stamp or not given or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE_S:
        return False
    signed = msg_id.encode("utf-8", "replace") + b"." + stamp.encode() + b"." + raw_body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    found = False
    for candidate in given.split():
        version, _, value = candidate.partition(",")
        # Compare every candidate: stopping at the first match would tell which one matched.
        if version == "v1" and hmac.compare_digest(expected, value.encode("utf-8", "replace")):
            found = True
    return found


def _key(secret: str) -> bytes | None:
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None
