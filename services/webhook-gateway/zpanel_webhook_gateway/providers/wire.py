"""How a provider frames a delivery in HTTP: one small table per provider (:class:`Wire`) of the
headers that name the delivery and the event, its signature header when it is a hex HMAC
(:class:`HexSignature`), and the routing from event to parser that every ``parse`` shares.

Several names for one header are tried in order (Gitea's forks send ``X-Forgejo-…`` and
``X-Gogs-…`` too); the first non-empty one wins.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from zpanel_webhook_gateway.providers import payload
from zpanel_webhook_gateway.providers.base import (
    Ignored,
    MalformedPayload,
    Parsed,
    TriggerEvent,
    body_digest_id,
    first_header,
    same_text,
)
from zpanel_webhook_gateway.providers.events import ProviderName
from zpanel_webhook_gateway.providers.payload import Doc

Outcome = TriggerEvent | Ignored
Handler = Callable[[Doc, str, str], Outcome | list[Outcome]]
"""A deploying event's parser: (payload, delivery id, repository URL) -> what it deploys or why not."""


@dataclass(frozen=True, slots=True)
class HexSignature:
    """A header holding ``prefix`` + the hex HMAC-SHA256 of the raw body under the secret."""

    headers: tuple[str, ...]
    prefix: str = ""

    def given(self, headers: Mapping[str, str]) -> str | None:
        return first_header(headers, *self.headers)

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        given = first_header(headers, *self.headers)  # stripped; None when empty
        if not secret or not given or not given.startswith(self.prefix):
            return False
        digest = given[len(self.prefix) :].lower()
        if not digest:
            return False
        return same_text(hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest(), digest)


@dataclass(frozen=True, slots=True)
class Wire:
    name: ProviderName
    title: str
    """The provider as it spells itself, for messages."""
    delivery_headers: tuple[str, ...]
    event_headers: tuple[str, ...] = ()

    def delivery_id(self, headers: Mapping[str, str], raw_body: bytes) -> str:
        return first_header(headers, *self.delivery_headers) or body_digest_id(raw_body)

    def event(self, headers: Mapping[str, str]) -> str:
        event = first_header(headers, *self.event_headers)
        if not event:
            raise MalformedPayload(f"missing {self.event_headers[0]} header: is this a {self.title} webhook?")
        return event

    def unsupported(self, event: str) -> Ignored:
        return Ignored("unsupported_event", f"{self.title} event {event!r} deploys nothing")

    def parsed(self, delivery: str, repo_url: str | None, outcome: Outcome | list[Outcome]) -> Parsed:
        if isinstance(outcome, Ignored):
            return Parsed(self.name, delivery, repo_url, ignored=(outcome,))
        if isinstance(outcome, list):  # one delivery about several refs (Bitbucket)
            found: list[TriggerEvent] = []
            ignored: list[Ignored] = []
            for one in outcome:
                if isinstance(one, Ignored):
                    ignored.append(one)
                else:
                    found.append(one)
            return Parsed(self.name, delivery, repo_url, events=tuple(found), ignored=tuple(ignored))
        return Parsed(self.name, delivery, repo_url, events=(outcome,))

    def route(
        self,
        event: str,
        doc: Doc,
        delivery: str,
        handlers: Mapping[str, Handler],
        repo_url: Callable[[Doc], str],
        other: Callable[[str, Doc], Ignored],
    ) -> Parsed:
        """A deploying event goes to its handler with the repository's URL (which it must name);
        any other deploys nothing (``other`` says why) and names its repository if it has one."""
        handle = handlers.get(event)
        if handle is not None:
            url = repo_url(doc)
            return self.parsed(delivery, url, handle(doc, delivery, url))
        return self.parsed(delivery, repo_url(doc) if payload.opt_obj(doc, "repository") else None, other(event, doc))
