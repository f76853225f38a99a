"""What every provider module returns, raises and shares.

A provider module (github, gitlab, bitbucket, gitea) is three pure functions over the raw request:

- ``verify(headers, raw_body, secret) -> bool``: is the request signed with this secret? Constant
  time; never raises.
- ``delivery_id(headers, raw_body) -> str``: the provider's id of this delivery (the same on a
  redelivery), or a digest of the body when the provider sent none.
- ``parse(headers, raw_body) -> Parsed``: the trigger events it carries, or why there are none.
  Raises :class:`MalformedPayload` (and nothing else) on input it cannot read.

``headers`` is any mapping of header names (in any case) to values, e.g. Starlette's ``Headers``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from zpanel.errors import ZpanelError
from zpanel.events import PullRequestReceived, PushReceived

TriggerEvent: TypeAlias = PushReceived | PullRequestReceived

MAX_BODY_BYTES = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB; no provider sends more, so a bigger body is refused (413)."""

IgnoredKind = Literal[
    "ping",
    "tag",
    "branch_deleted",
    "skip_marker",
    "unsupported_event",
    "unsupported_action",
    "fork",
    "not_a_branch",
]


class GatewayError(ZpanelError):
    """Base of the gateway's own errors."""


class MalformedPayload(GatewayError):
    """The request is not a webhook this provider sends (answer 400). The message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """Something the webhook announced that deploys nothing, and why (answer 200 with ``reason``)."""

    kind: IgnoredKind
    reason: str


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed delivery: its events (usually one; Bitbucket may push several branches at once)
    and what it announced that deploys nothing.

    ``repo_url`` names the repository whose applications' secrets the request must be verified
    against; it is None only for deliveries about no repository (an organisation-wide ping).
    """

    provider: str
    delivery_id: str
    repo_url: str | None
    events: tuple[TriggerEvent, ...] = ()
    ignored: tuple[Ignored, ...] = ()

    @property
    def reason(self) -> str:
        """Why nothing (or not everything) in this delivery is deployed, for the 200 answer."""
        return "; ".join(i.reason for i in self.ignored)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name in ``headers``."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def first_header(headers: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = header(headers, name)
        if value:
            return value.strip()
    return None


def same_text(expected: str, given: str) -> bool:
    """Constant-time equality of two strings. ``hmac.compare_digest`` raises on non-ASCII str,
    and a header may hold anything, so both sides are compared as UTF-8 bytes."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))


def body_digest_id(raw_body: bytes) -> str:
    """A delivery id for providers that sent none: the same body is the same delivery."""
    return "sha256-" + hashlib.sha256(raw_body).hexdigest()
