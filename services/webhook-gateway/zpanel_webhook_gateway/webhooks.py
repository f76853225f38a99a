"""What to do with one webhook request: the whole decision, without I/O.

The route reads the body (refusing more than ``MAX_BODY_BYTES``), loads the applications, calls
:func:`receive`, then performs the outcome: for each ``Queued`` it records the deployment (create
if absent: a redelivery finds it there) and publishes the event with ``Nats-Msg-Id`` =
``event.event_id``; then it answers ``outcome.status`` with ``outcome.body()``.

Order matters and is fixed here: nothing is trusted or queued before the signature is checked
against the secret of every application that deploys the repository. Only the applications
whose own secret verified are deployed: sharing a repository does not share a secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zpanel.models import Application
from zpanel_webhook_gateway.idempotency import deployment_id_for
from zpanel_webhook_gateway.matching import apps_for_repo, match_with_reasons
from zpanel_webhook_gateway.providers import MAX_BODY_BYTES, MalformedPayload, Provider, TriggerEvent


@dataclass(frozen=True, slots=True)
class Queued:
    """One deployment to start: this application, for this event, under this (deterministic) id."""

    event: TriggerEvent
    app: Application
    deployment_id: str


@dataclass(slots=True)
class Outcome:
    status: int  # 202 queued, 200 nothing to do, 400 malformed, 401 not verified, 413 too large
    reason: str = ""
    delivery_id: str | None = None
    queued: list[Queued] = field(default_factory=list)

    @property
    def events(self) -> list[TriggerEvent]:
        """The events to publish, each once, in order."""
        seen: dict[str, TriggerEvent] = {}
        for q in self.queued:
            seen.setdefault(q.event.event_id, q.event)
        return list(seen.values())

    def body(self) -> dict[str, Any]:
        """The JSON answer: ``deployment_ids`` when queued, the reason otherwise, errors in the API's shape."""
        if self.status >= 400:
            code = {400: "malformed_payload", 401: "bad_signature", 413: "payload_too_large"}.get(self.status, "error")
            return {"error": {"code": code, "message": self.reason}}
        answer: dict[str, Any] = {"status": "queued" if self.queued else "ignored", "delivery_id": self.delivery_id}
        if self.queued:
            answer["deployment_ids"] = [q.deployment_id for q in self.queued]
        if self.reason:
            answer["reason"] = self.reason
        return answer


def receive(
    provider: Provider,
    headers: Mapping[str, str],
    raw_body: bytes,
    apps: Iterable[Application],
    secret_of: Callable[[Application], str],
) -> Outcome:
    """Verify, parse and match one delivery. ``secret_of`` opens an application's sealed secret."""
    if len(raw_body) > MAX_BODY_BYTES:
        return Outcome(413, f"the payload is over {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    try:
        parsed = provider.parse(headers, raw_body)
    except MalformedPayload as exc:
        return Outcome(400, str(exc))
    if parsed.repo_url is None:  # e.g. an organisation ping: about no repository, so nothing to do
        return Outcome(200, parsed.reason or "the delivery names no repository", parsed.delivery_id)
    candidates = apps_for_repo(parsed.repo_url, apps)
    if not candidates:
        return Outcome(200, f"no application deploys repository {parsed.repo_url}", parsed.delivery_id)
    problem = provider.signature_problem(headers)
    if problem:
        return Outcome(401, problem, parsed.delivery_id)
    # Every candidate is tried (no early exit), so the time taken says nothing about which matched.
    verified = [app for app in candidates if provider.verify(headers, raw_body, secret_of(app))]
    if not verified:
        return Outcome(
            401,
            f"the signature matches the webhook secret of no application deploying {parsed.repo_url}",
            parsed.delivery_id,
        )
    outcome = Outcome(200, parsed.reason, parsed.delivery_id)
    reasons = [parsed.reason] if parsed.reason else []
    for event in parsed.events:
        found = match_with_reasons(event, verified)
        outcome.queued.extend(Queued(event, app, deployment_id_for(event.event_id, app.id)) for app in found.apps)
        if found.reason:
            reasons.append(found.reason)
    outcome.reason = "; ".join(reasons)
    if outcome.queued:
        outcome.status = 202
    return outcome
