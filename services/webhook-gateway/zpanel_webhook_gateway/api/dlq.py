"""Dead-lettered work: list it, replay one letter (its original message, with a fresh delivery count)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from zpanel.bus import list_letters, replay
from zpanel.errors import NotFound
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.auth import require_token
from zpanel_webhook_gateway.api.deps import Deps, get_deps

router = APIRouter(prefix="/api/v1/dlq", tags=["dead letters"], dependencies=[Depends(require_token)])
DepsDep = Annotated[Deps, Depends(get_deps)]
MAX_ID = 2**63 - 1


@router.get("", summary="Dead letters, oldest first")
async def list_dlq(deps: DepsDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    return [views.dead_letter(seq, letter) for seq, letter in await list_letters(deps.bus, limit=limit)]


@router.post("/{letter_id}/replay", status_code=202, summary="Publish a dead letter's message again")
async def replay_one(letter_id: int, deps: DepsDep) -> JSONResponse:
    if not 1 <= letter_id <= MAX_ID:
        raise NotFound(f"no dead letter {letter_id}: `zpanel dlq list` shows the ids")
    seq = await replay(deps.bus, letter_id)
    return JSONResponse({"id": letter_id, "replayed_as": seq}, status_code=202)
