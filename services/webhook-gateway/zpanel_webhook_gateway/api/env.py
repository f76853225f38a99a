"""Environment variables of an application. Secret values are sealed on the way in and never come
back out: they read as ``********``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from zpanel.errors import NotFound
from zpanel.models import Application, EnvVar
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.applications import load_app
from zpanel_webhook_gateway.api.auth import require_token
from zpanel_webhook_gateway.api.deps import Deps, get_deps
from zpanel_webhook_gateway.api.schemas import EnvPut

router = APIRouter(prefix="/api/v1/applications/{app}/env", tags=["environment"], dependencies=[Depends(require_token)])
DepsDep = Annotated[Deps, Depends(get_deps)]


@router.get("", summary="An application's variables (secret values masked)")
async def list_env(app: str, deps: DepsDep) -> list[dict[str, Any]]:
    record = await load_app(deps, app)
    return [views.env_var(v) for v in sorted(record.env, key=lambda v: v.key)]


@router.put("/{key}", summary="Set one variable (takes effect on the next deployment)")
async def put_env(app: str, key: str, body: EnvPut, deps: DepsDep) -> dict[str, Any]:
    record = await load_app(deps, app)
    value = deps.cipher.seal(body.value) if body.secret else body.value
    var = EnvVar(key=key, value=value, secret=body.secret, build_time=body.build_time)

    def change(a: Application) -> Application:
        a.env = [v for v in a.env if v.key != key] + [var]
        return a

    await deps.state.apps.update(record.id, change)
    return views.env_var(var)


@router.delete("/{key}", status_code=204, response_class=Response, summary="Remove one variable")
async def delete_env(app: str, key: str, deps: DepsDep) -> Response:
    record = await load_app(deps, app)
    if not any(v.key == key for v in record.env):
        raise NotFound(f"{record.name} has no variable {key!r}: GET …/env lists them")

    def change(a: Application) -> Application | None:
        kept = [v for v in a.env if v.key != key]
        if len(kept) == len(a.env):
            return None
        a.env = kept
        return a

    await deps.state.apps.update(record.id, change)
    return Response(status_code=204)
