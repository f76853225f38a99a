"""Applications: create (sealing the webhook secret and notify URLs), read, change, delete; their
NATS schedule follows ``schedule``; deploy and redeploy go through the conductor."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from typing import Annotated, Any

import nats.js.errors
from fastapi import APIRouter, Body, Depends, Response
from fastapi.responses import JSONResponse

from zpanel import schedules
from zpanel.errors import Conflict, NotFound
from zpanel.models import Application, BuildSettings
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.auth import require_token
from zpanel_webhook_gateway.api.deps import Deps, get_deps
from zpanel_webhook_gateway.api.schemas import (
    ApplicationCreate,
    ApplicationFields,
    ApplicationPatch,
    DeployBody,
    RedeployBody,
    path_key,
)

router = APIRouter(prefix="/api/v1/applications", tags=["applications"], dependencies=[Depends(require_token)])
DepsDep = Annotated[Deps, Depends(get_deps)]


async def load_app(deps: Deps, key: str) -> Application:
    path_key(key, f"no application {key!r}: `zpanel app list` shows them")
    return await deps.state.app(key)


async def require_server(deps: Deps, name: str) -> None:
    if await deps.state.servers.find(name) is None:
        raise NotFound(f"no server {name!r}: register it first with `zpanel server add {name} --host HOST --key FILE`")


def apply_fields(app: Application, body: ApplicationFields, deps: Deps) -> Application:
    """Copy the fields the request set onto the record, sealing what is secret."""
    given = body.model_fields_set
    values = body.model_dump(include=given, exclude={"build", "health", "health_path", "notify", "webhook_secret"})
    for key, value in values.items():
        if key in ("pre_deploy", "post_deploy", "schedule", "memory", "cpus") or value is not None:
            setattr(app, key, value)
    if body.build is not None:
        app.build = (
            body.build if isinstance(body.build, BuildSettings) else app.build.model_copy(update={"kind": body.build})
        )
    if body.health is not None:
        app.health = body.health
    if body.health_path is not None:
        app.health = app.health.model_copy(update={"path": body.health_path})
    if body.notify is not None:
        app.notify = [deps.cipher.seal(url) for url in body.notify]
    if body.webhook_secret is not None:
        app.webhook_secret = deps.cipher.seal(body.webhook_secret)
    return app


@router.post("", status_code=201, summary="Register an application; the answer holds its webhook secret, once")
async def create(body: ApplicationCreate, deps: DepsDep) -> JSONResponse:
    await require_server(deps, body.server)
    plain_secret = body.webhook_secret or secrets.token_urlsafe(32)
    app = Application(id=uuid.uuid4().hex, name=body.name, repo=body.repo, server=body.server)
    app = apply_fields(app, body.model_copy(update={"webhook_secret": plain_secret}), deps)
    app = Application.model_validate(app.model_dump())
    await deps.state.create_app(app)
    if app.schedule:
        await schedules.set_schedule(deps.bus, app.id, app.schedule)
    answer = views.application(app, deps) | {"webhook_secret": plain_secret}
    return JSONResponse(answer, status_code=201)


@router.get("", summary="List applications")
async def list_apps(deps: DepsDep) -> list[dict[str, Any]]:
    apps = sorted(await deps.state.apps.all(), key=lambda a: a.name)
    return [views.application(a, deps) for a in apps]


@router.get("/{app}", summary="One application, with its current and last deployment")
async def show(app: str, deps: DepsDep) -> dict[str, Any]:
    record = await load_app(deps, app)
    current_id = await deps.state.current(record.id)
    current = await deps.state.deployments.find(current_id) if current_id else None
    last = await deps.state.app_deployments(record.id, limit=1)
    return views.application(record, deps) | {
        "current_deployment": views.deployment(current, deps) if current else None,
        "last_deployment": views.deployment(last[0], deps) if last else None,
    }


@router.patch("/{app}", summary="Change any of the create fields")
async def patch(app: str, body: ApplicationPatch, deps: DepsDep) -> dict[str, Any]:
    record = await load_app(deps, app)
    if body.server is not None and body.server != record.server:
        await require_server(deps, body.server)
    new_name = body.name if body.name is not None and body.name != record.name else None
    if new_name:
        await _claim_name(deps, new_name, record.id)

    def change(a: Application) -> Application:
        return Application.model_validate(apply_fields(a, body, deps).model_dump())

    try:
        updated = await deps.state.apps.update(record.id, change)
    except Exception:
        if new_name:
            await _release_name(deps, new_name)
        raise
    if new_name:
        await _release_name(deps, record.name)
    if "schedule" in body.model_fields_set:
        if updated.schedule:
            await schedules.set_schedule(deps.bus, updated.id, updated.schedule)
        else:
            await schedules.remove_schedule(deps.bus, updated.id)
    return views.application(updated, deps)


@router.delete("/{app}", status_code=204, response_class=Response, summary="Forget an application")
async def delete(app: str, deps: DepsDep) -> Response:
    record = await load_app(deps, app)
    await deps.state.delete_app(record)
    if record.schedule:
        await schedules.remove_schedule(deps.bus, record.id)
    return Response(status_code=204)


@router.post("/{app}/deploy", status_code=202, summary="Deploy the branch head, or a given commit")
async def deploy(app: str, deps: DepsDep, body: Annotated[DeployBody | None, Body()] = None) -> JSONResponse:
    record = await load_app(deps, app)
    dep = await deps.conductor.request(record, "manual", commit=body.commit if body else None)
    return JSONResponse({"deployment_id": dep.id, "status": dep.status.value}, status_code=202)


@router.post("/{app}/redeploy", status_code=202, summary="Roll back: run a previous successful deployment's image")
async def redeploy(app: str, deps: DepsDep, body: Annotated[RedeployBody | None, Body()] = None) -> JSONResponse:
    record = await load_app(deps, app)
    dep = await deps.conductor.rollback(record, body.deployment_id if body else None)
    return JSONResponse({"deployment_id": dep.id, "status": dep.status.value}, status_code=202)


async def _claim_name(deps: Deps, name: str, app_id: str) -> None:
    names = await deps.bus.kv("app_names")
    try:
        await names.create(name, app_id.encode())
    except nats.js.errors.KeyWrongLastSequenceError as exc:
        raise Conflict(f"an application named {name!r} exists already; pick another name") from exc


async def _release_name(deps: Deps, name: str) -> None:
    names = await deps.bus.kv("app_names")
    with contextlib.suppress(nats.js.errors.KeyNotFoundError):
        await names.delete(name)
