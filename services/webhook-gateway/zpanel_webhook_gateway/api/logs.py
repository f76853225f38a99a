"""A deployment's log: the history over HTTP, and a WebSocket that replays it, follows it live and
closes with the terminal status.

The projection writes a final log line when a deployment ends; the socket stops there. Should that
line never come (the record went terminal but the line was lost in a crash), the socket still
closes ``grace`` seconds after the record shows a terminal status, so no client waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from zpanel import logstream
from zpanel.errors import NotFound
from zpanel.state import State
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.auth import require_token, websocket_token
from zpanel_webhook_gateway.api.deployments import load_deployment
from zpanel_webhook_gateway.api.deps import Deps, get_deps, ws_deps
from zpanel_webhook_gateway.api.errors import error_body

router = APIRouter(prefix="/api/v1/deployments/{deployment_id}/logs", tags=["logs"])
DepsDep = Annotated[Deps, Depends(get_deps)]

POLL_S = 1.0
GRACE_S = 2.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


@router.get("", dependencies=[Depends(require_token)], summary="The log so far; final is true once it is complete")
async def history(deployment_id: str, deps: DepsDep) -> dict[str, Any]:
    await load_deployment(deps, deployment_id)
    lines = await logstream.history(deps.bus, deployment_id)
    return {"lines": [views.log_line(line) for line in lines], "final": bool(lines and lines[-1].final)}


@router.websocket("/ws")
async def follow(websocket: WebSocket, deployment_id: str) -> None:
    deps = ws_deps(websocket)
    await websocket.accept()
    problem = await websocket_token(websocket, deps)
    if problem:
        await _refuse(websocket, CLOSE_UNAUTHORIZED, "unauthorized", problem)
        return
    try:
        await load_deployment(deps, deployment_id)
    except NotFound as exc:
        await _refuse(websocket, CLOSE_NOT_FOUND, "not_found", str(exc))
        return
    pump = asyncio.create_task(_pump(websocket, deps, deployment_id))
    listen = asyncio.create_task(_until_disconnect(websocket))
    done, pending = await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await task
    if pump in done and pump.exception() is None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.send_json({"status": pump.result()})
            await websocket.close(code=1000)


async def _pump(websocket: WebSocket, deps: Deps, deployment_id: str) -> str:
    """Send every line until the end of the log; return the terminal status."""
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def read() -> None:
        async for line in logstream.follow(deps.bus, deployment_id):
            await queue.put(views.log_line(line))
        await queue.put(None)

    async def watch() -> None:
        # None: promised by a webhook's 202, its admission still on its way (api/deployments.py)
        while (found := await deps.state.deployments.find(deployment_id)) is None or not found.status.terminal:
            await asyncio.sleep(POLL_S)
        await asyncio.sleep(GRACE_S)
        await queue.put(None)

    tasks = [asyncio.create_task(read()), asyncio.create_task(watch())]
    try:
        while (item := await queue.get()) is not None:
            await websocket.send_json(item)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return await _terminal_status(deps.state, deployment_id)


async def _terminal_status(state: State, deployment_id: str, wait_s: float = 5.0) -> str:
    """The final line is written after the record turns terminal; wait a little in case of a lag."""
    dep = await state.deployments.get(deployment_id)
    for _ in range(int(wait_s / 0.05)):
        if dep.status.terminal:
            break
        await asyncio.sleep(0.05)
        dep = await state.deployments.get(deployment_id)
    return dep.status.value


async def _until_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message.get("type") == "websocket.disconnect":
                return


async def _refuse(websocket: WebSocket, code: int, error: str, message: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json(error_body(error, message))
        await websocket.close(code=code, reason=error)
