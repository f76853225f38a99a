"""Deployments: list (by app, by status), detail with per-stage timings, cancel."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from zpanel.errors import NotFound
from zpanel.models import Deployment, Status
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.applications import load_app
from zpanel_webhook_gateway.api.auth import require_token
from zpanel_webhook_gateway.api.deps import Deps, get_deps
from zpanel_webhook_gateway.api.schemas import path_key

router = APIRouter(prefix="/api/v1", tags=["deployments"], dependencies=[Depends(require_token)])
DepsDep = Annotated[Deps, Depends(get_deps)]
Limit = Annotated[int, Query(ge=1, le=1000)]
SCAN = 1000
ADMISSION_WAIT_S = 0.5


async def load_deployment(deps: Deps, deployment_id: str) -> Deployment:
    missing = f"no deployment {deployment_id!r}: `zpanel deployments APP` lists them"
    path_key(deployment_id, missing)
    found = await deps.state.deployments.find(deployment_id)
    if found is None:
        found = await promised(deps, deployment_id)
    if found is None:
        raise NotFound(missing)
    return found


async def promised(deps: Deps, deployment_id: str) -> Deployment | None:
    """A deployment a webhook's 202 promised, whose push event JetStream holds but the intake has
    not admitted yet: wait a moment for the record (admission is usually milliseconds behind),
    then answer the record as admission will write it — ``queued`` — rather than a 404. Known to
    the gateway process that answered the webhook (see ``inflight.py``)."""
    inflight = deps.conductor.inflight
    deadline = time.monotonic() + ADMISSION_WAIT_S
    while (draft := inflight.get(deployment_id)) is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        found = await deps.state.deployments.find(deployment_id)
        if found is not None:
            return found
    return draft or await deps.state.deployments.find(deployment_id)


def _filtered(deps: Deps, deps_list: list[Deployment], status: Status | None, limit: int) -> list[dict[str, Any]]:
    chosen = [d for d in deps_list if status is None or d.status is status]
    chosen.sort(key=lambda d: d.created_at, reverse=True)
    return [views.deployment(d, deps) for d in chosen[:limit]]


@router.get("/applications/{app}/deployments", summary="An application's deployments, newest first")
async def app_deployments(
    app: str, deps: DepsDep, status: Status | None = None, limit: Limit = 50
) -> list[dict[str, Any]]:
    record = await load_app(deps, app)
    found = await deps.state.app_deployments(record.id, limit=SCAN if status else limit)
    return _filtered(deps, found, status, limit)


@router.get("/deployments", summary="Deployments of every (or one) application, newest first")
async def all_deployments(
    deps: DepsDep, app: str | None = None, status: Status | None = None, limit: Limit = 50
) -> list[dict[str, Any]]:
    if app:
        record = await load_app(deps, app)
        found = await deps.state.app_deployments(record.id, limit=SCAN)
    else:
        found = await deps.state.deployments.all()
    return _filtered(deps, found, status, limit)


@router.get("/deployments/{deployment_id}", summary="One deployment with its stages")
async def show(deployment_id: str, deps: DepsDep) -> dict[str, Any]:
    return views.deployment(await load_deployment(deps, deployment_id), deps)


@router.post("/deployments/{deployment_id}/cancel", status_code=202, summary="Cancel a queued or running deployment")
async def cancel(deployment_id: str, deps: DepsDep) -> JSONResponse:
    await load_deployment(deps, deployment_id)
    dep = await deps.conductor.cancel(deployment_id)
    return JSONResponse(
        {"deployment_id": dep.id, "status": dep.status.value, "cancel_requested": True}, status_code=202
    )
