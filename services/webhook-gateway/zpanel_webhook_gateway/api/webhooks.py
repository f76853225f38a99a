"""``POST /webhooks/{provider}``: the HTTP side of :func:`zpanel_webhook_gateway.webhooks.receive`.

In order: read the body (at most ``max_body_bytes``: 413), decide (verify before anything else:
400/401, or 200 with a reason) against the in-memory application catalogue, refuse with 429 when
a target server has too many open deployments (a count kept in memory), then publish each event
durably with ``Nats-Msg-Id`` = its id and the ids of the applications it deploys in a header, and
answer 202 with the deployment ids once JetStream has acknowledged it. Nothing else happens here:
the intake consumer (``intake.py``) admits the deployments — creates each record if absent,
supersedes, hands it to the builder. Ids are deterministic, so a redelivered webhook (also a day
later, past JetStream's dedupe window, when its event is stored again) finds its deployments
there and creates nothing new. Until admission, this process answers for the promised ids
(``inflight.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from zpanel.bus import codec
from zpanel.events import PullRequestReceived
from zpanel.models import Deployment, Trigger
from zpanel.telemetry import inject
from zpanel_webhook_gateway.api.catalog import AppCatalog
from zpanel_webhook_gateway.api.deps import PROVIDER_NAMES, Deps, get_deps
from zpanel_webhook_gateway.api.errors import ApiError
from zpanel_webhook_gateway.api.queue import QueueGauge
from zpanel_webhook_gateway.api.tracing import traced
from zpanel_webhook_gateway.intake import APPS_HEADER
from zpanel_webhook_gateway.providers import PROVIDERS
from zpanel_webhook_gateway.webhooks import Outcome, Queued, receive

router = APIRouter(tags=["webhooks"])
DepsDep = Annotated[Deps, Depends(get_deps)]
ROUTE = "/webhooks/{provider}"

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


def catalog(request: Request, deps: Deps) -> AppCatalog:
    found: AppCatalog | None = getattr(request.app.state, "app_catalog", None)
    if found is None:
        found = AppCatalog(deps.bus, deps.state)
        request.app.state.app_catalog = found
    return found


def gauge(request: Request, deps: Deps) -> QueueGauge:
    found: QueueGauge | None = getattr(request.app.state, "queue_gauge", None)
    if found is None:
        found = QueueGauge(deps.bus, deps.state, deps.conductor.inflight, deps.limits.queue_cache_s)
        request.app.state.queue_gauge = found
    return found


@router.post(
    ROUTE,
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
    """Documents the route (OpenAPI); requests are answered by ``api/hotpath.serve`` before FastAPI
    routes them, with the same :func:`handle`."""
    return await handle(provider, request, deps)


async def handle(provider: str, request: Request, deps: Deps) -> JSONResponse:
    chosen = PROVIDERS.get(provider)
    if chosen is None:
        raise ApiError(404, "not_found", f"no webhook provider {provider!r}: use one of {', '.join(PROVIDER_NAMES)}")
    raw = await read_body(request, deps.limits.max_body_bytes)
    apps = catalog(request, deps)
    outcome = receive(chosen, request.headers, raw, await apps.index(), deps.secret_of)
    if outcome.status == 401 or (outcome.status == 200 and not outcome.queued):
        # maybe an application (or its secret) changed a moment ago: decide again on a fresh copy
        outcome = receive(chosen, request.headers, raw, await apps.index(fresh=True), deps.secret_of)
    if not outcome.queued:
        return JSONResponse(outcome.body(), status_code=outcome.status)
    await _refuse_if_full(request, deps, outcome)
    for q in outcome.queued:
        _promise(deps, q)
    try:
        for event in outcome.events:
            app_ids = ",".join(q.app.id for q in outcome.queued if q.event.event_id == event.event_id)
            # not Bus.publish: no producer span of its own (the webhook's server span, when
            # traced, is current and its context goes in the headers: the trace starts there)
            headers = {codec.MSG_ID: event.event_id, codec.EVENT_TYPE: event.type, APPS_HEADER: app_ids}
            if traced():
                inject(headers)
            await deps.bus.publish_raw(codec.subject_for(event), codec.encode(event), headers)
    except BaseException:
        for q in outcome.queued:  # not stored: the provider sees an error and redelivers
            deps.conductor.inflight.discard(q.deployment_id)
        raise
    return JSONResponse(outcome.body(), status_code=outcome.status)


def _promise(deps: Deps, q: Queued) -> None:
    """Remember the deployment the answer promises, until the intake admits it."""
    event, app = q.event, q.app
    trigger: Trigger = "push"
    preview: int | None = None
    if isinstance(event, PullRequestReceived):
        if event.action == "closed":
            return  # a teardown, not a deployment
        trigger, preview = "preview", event.number

    def draft() -> Deployment:
        return deps.conductor.draft(app, trigger, commit=event.commit, preview=preview, deployment_id=q.deployment_id)

    deps.conductor.inflight.add(q.deployment_id, app.server, draft)


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
