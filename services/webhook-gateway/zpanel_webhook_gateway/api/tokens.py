"""API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from zpanel_webhook_gateway.api.auth import Tokens, require_token
from zpanel_webhook_gateway.api.deps import Deps, get_deps
from zpanel_webhook_gateway.api.schemas import TokenCreate, path_key

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"], dependencies=[Depends(require_token)])
DepsDep = Annotated[Deps, Depends(get_deps)]


@router.post("", status_code=201, summary="Create a token; the answer is the only place it is ever shown")
async def create(body: TokenCreate, deps: DepsDep) -> JSONResponse:
    record, token = await Tokens(deps.bus).create(body.name)
    return JSONResponse({"id": record.id, "name": record.name, "token": token}, status_code=201)


@router.get("", summary="List tokens (never the tokens themselves)")
async def list_tokens(deps: DepsDep) -> list[dict[str, Any]]:
    return [t.view() for _, t in await Tokens(deps.bus).list()]


@router.delete("/{token_id}", status_code=204, response_class=Response, summary="Revoke a token")
async def delete(token_id: str, deps: DepsDep) -> Response:
    path_key(token_id, f"no token {token_id!r}: GET /api/v1/tokens lists them")
    await Tokens(deps.bus).delete(token_id)
    return Response(status_code=204)
