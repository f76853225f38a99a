"""The webhook providers, by the name in their route (``POST /webhooks/<name>``).

Each is a module of pure functions over the raw request (see ``providers.base``); the HTTP layer
only picks one from :data:`PROVIDERS` and hands it the headers and the body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from zpanel_webhook_gateway.providers import bitbucket, gitea, github, gitlab
from zpanel_webhook_gateway.providers.base import (
    MAX_BODY_BYTES,
    GatewayError,
    Ignored,
    MalformedPayload,
    Parsed,
    TriggerEvent,
)

Headers = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    verify: Callable[[Headers, bytes, str], bool]
    parse: Callable[[Headers, bytes], Parsed]
    delivery_id: Callable[[Headers, bytes], str]
    signature_problem: Callable[[Headers], str | None]


PROVIDERS: dict[str, Provider] = {
    m.NAME: Provider(m.NAME, m.verify, m.parse, m.delivery_id, m.signature_problem)
    for m in (github, gitlab, bitbucket, gitea)
}

__all__ = [
    "MAX_BODY_BYTES",
    "PROVIDERS",
    "GatewayError",
    "Ignored",
    "MalformedPayload",
    "Parsed",
    "Provider",
    "TriggerEvent",
]
