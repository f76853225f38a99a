"""``POST /webhooks/{provider}``: the HTTP side of :func:`zpanel_webhook_gateway.webhooks.receive`.

In order: read the body (at most ``max_body_bytes``: 413), decide (verify before anything else:
400/401, or 200 with a reason), answer a delivery acted on before with the same answer and do
nothing (the ``deliveries`` bucket keeps them a day, past JetStream's dedupe window), refuse with
429 when a target server has too many open deployments, then record each deployment through the
conductor and publish each event with ``Nats-Msg-Id`` = its id. Every step repeats harmlessly when
the provider redelivers after a failure half-way: ids are deterministic, creation is if-absent.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import nats.js.errors
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from zpanel.events import PullRequestReceived
from zpanel_webhook_gateway.api.catalog import AppCatalog
from zpanel_webhook_gateway.api.deps import PROVIDER_NAMES, Deps, get_deps
from zpanel_webhook_gateway.api.errors import ApiError
from zpanel_webhook_gateway.api.queue import QueueGauge
from zpanel_webhook_gateway.providers import PROVIDERS
from zpanel_webhook_gateway.webhooks import Outcome, receive

router = APIRouter(tags=["webhooks"])
DepsDep = Annotated[Deps, Depends(get_deps)]
DELIVERIES = "deliveries"

OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "the provider's payload"}}},
    }
}


async def read_body(request: Request, limit: int) -> bytes:
    too_large = ApiError(413, "payload_too_large", f"the payload is over {limit} bytes; no provider sends more")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def delivery_key(provider: str, delivery_id: str) -> str:
    """A KV key for any delivery id a provider may send (they hold characters keys may not)."""
    return f"{provider}.{hashlib.sha256(delivery_id.encode('utf-8', 'replace')).hexdigest()}"


def catalog(request: Request, deps: Deps) -> AppCatalog:
    found: AppCatalog | None = getattr(request.app.state, "app_catalog", None)
    if found is None:
        found = AppCatalog(deps.bus, deps.state)
        request.app.state.app_catalog = found
    return found


def gauge(request: Request, deps: Deps) -> QueueGauge:
    found: QueueGauge | None = getattr(request.app.state, "queue_gauge", None)
    if found is None:
        found = QueueGauge(deps.state, deps.limits.queue_cache_s)
        request.app.state.queue_gauge = found
    return found


@router.post(
    "/webhooks/{provider}",
    summary="A provider's push or pull-request webhook (github, gitlab, bitbucket, gitea)",
    openapi_extra=OPENAPI_BODY,
    responses={
        202: {"description": "queued: the deployment ids"},
        200: {"description": "nothing to deploy, and why"},
        400: {"description": "malformed"},
        401: {"description": "bad or missing signature"},
        413: {"description": "too large"},
        429: {"description": "a target server's queue is full; see Retry-After"},
    },
)
async def webhook(provider: str, request: Request, deps: DepsDep) -> JSONResponse:
    chosen = PROVIDERS.get(provider)
    if chosen is None:
        raise ApiError(404, "not_found", f"no webhook provider {provider!r}: use one of {', '.join(PROVIDER_NAMES)}")
    raw = await read_body(request, deps.limits.max_body_bytes)
    apps = catalog(request, deps)
    outcome = receive(chosen, request.headers, raw, await apps.all(), deps.secret_of)
    if outcome.status == 401 or (outcome.status == 200 and not outcome.queued):
        # maybe an application (or its secret) changed a moment ago: decide again on a fresh copy
        outcome = receive(chosen, request.headers, raw, await apps.all(fresh=True), deps.secret_of)
    if not outcome.queued:
        return JSONResponse(outcome.body(), status_code=outcome.status)
    deliveries = await deps.bus.kv(DELIVERIES)
    key = delivery_key(provider, outcome.delivery_id or raw.hex()[:64])
    seen = await _seen(deliveries, key)
    if seen is not None:
        return JSONResponse(seen["body"], status_code=seen["status"])
    await _refuse_if_full(request, deps, outcome)
    for q in outcome.queued:
        if isinstance(q.event, PullRequestReceived):
            if q.event.action == "closed":
                continue  # a teardown, not a deployment: published below for the preview teardown
            await deps.conductor.request(
                q.app, "preview", commit=q.event.commit, preview=q.event.number, deployment_id=q.deployment_id
            )
        else:
            await deps.conductor.request(q.app, "push", commit=q.event.commit, deployment_id=q.deployment_id)
    for event in outcome.events:
        await deps.bus.publish(event, msg_id=event.event_id)
    answer = {"status": outcome.status, "body": outcome.body()}
    await deliveries.put(key, json.dumps(answer).encode())
    return JSONResponse(answer["body"], status_code=outcome.status)


async def _seen(deliveries: Any, key: str) -> dict[str, Any] | None:
    try:
        entry = await deliveries.get(key)
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
        return None
    return json.loads(entry.value) if entry.value else None


async def _refuse_if_full(request: Request, deps: Deps, outcome: Outcome) -> None:
    limit = deps.limits.max_open_per_server
    meter = gauge(request, deps)
    for server in sorted({q.app.server for q in outcome.queued}):
        if await meter.open_on(server) > limit:
            raise ApiError(
                429,
                "queue_full",
                f"server {server!r} has more than {limit} deployments open; redeliver later",
                {"Retry-After": str(deps.limits.retry_after_s)},
            )
