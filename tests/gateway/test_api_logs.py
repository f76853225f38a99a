"""Logs: the history over HTTP, and the WebSocket that replays, follows and closes with the
terminal status — on a real uvicorn, since WebSockets need one."""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import connect

from tests.gateway.apistack import CANARY, Api, api_fixture, serving  # noqa: F401
from zpanel import logstream
from zpanel.events import DeploymentCancelled, DeploymentSucceeded
from zpanel.models import Status
from zpanel.secrets import redactor


async def deployed(api: Api) -> tuple[str, dict[str, str]]:
    await api.add_local()
    created = await api.create_app()
    dep_id = (await api.request("POST", "/api/v1/applications/web/deploy")).json()["deployment_id"]
    return dep_id, {"deployment_id": dep_id, "app_id": created["id"], "server_id": "local"}


def shape(message: dict[str, Any]) -> tuple[str, str, str]:
    assert set(message) == {"ts", "stage", "stream", "line"}
    return message["stage"], message["stream"], message["line"]


async def test_history_until_final(api: Api) -> None:
    dep_id, ids = await deployed(api)
    redactor.add(CANARY)
    await logstream.append(api.bus, dep_id, "build", "Step 1/3 : FROM busybox", "stdout")
    await logstream.append(api.bus, dep_id, "build", f"token={CANARY}", "stderr")
    r = await api.request("GET", f"/api/v1/deployments/{dep_id}/logs")
    assert [shape(m) for m in r.json()["lines"]] == [
        ("build", "stdout", "Step 1/3 : FROM busybox"),
        ("build", "stderr", "token=********"),
    ]
    assert r.json()["final"] is False
    await api.bus.publish(DeploymentSucceeded(**ids))
    await api.wait_status(dep_id, Status.SUCCEEDED)
    for _ in range(100):
        r = await api.request("GET", f"/api/v1/deployments/{dep_id}/logs")
        if r.json()["final"]:
            break
    assert shape(r.json()["lines"][-1]) == ("finish", "system", "deployment succeeded")
    r = await api.request("GET", "/api/v1/deployments/nope/logs")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


async def test_websocket_replays_then_follows_then_closes_with_the_status(api: Api) -> None:
    dep_id, ids = await deployed(api)
    await logstream.append(api.bus, dep_id, "build", "one", "stdout")
    await logstream.append(api.bus, dep_id, "build", "two", "stdout")
    async with serving(api.app) as host:
        url = f"ws://{host}/api/v1/deployments/{dep_id}/logs/ws"
        async with connect(url, additional_headers={"Authorization": f"Bearer {api.token}"}) as ws:
            replayed = [shape(json.loads(await ws.recv())) for _ in range(2)]
            assert replayed == [("build", "stdout", "one"), ("build", "stdout", "two")]
            await logstream.append(api.bus, dep_id, "deploy", "three", "stderr")
            assert shape(json.loads(await ws.recv())) == ("deploy", "stderr", "three")
            await api.bus.publish(DeploymentSucceeded(**ids))
            assert shape(json.loads(await ws.recv())) == ("finish", "system", "deployment succeeded")
            assert json.loads(await ws.recv()) == {"status": "succeeded"}
            await ws.wait_closed()
            assert ws.close_code == 1000


async def test_websocket_refuses_a_bad_token_and_an_unknown_deployment(api: Api) -> None:
    dep_id, _ = await deployed(api)
    async with serving(api.app) as host:
        async with connect(f"ws://{host}/api/v1/deployments/{dep_id}/logs/ws") as ws:
            assert json.loads(await ws.recv())["error"]["code"] == "unauthorized"
            await ws.wait_closed()
            assert ws.close_code == 4401
        headers = {"Authorization": f"Bearer {api.token}"}
        async with connect(f"ws://{host}/api/v1/deployments/nope/logs/ws", additional_headers=headers) as ws:
            assert json.loads(await ws.recv()) == {
                "error": {"code": "not_found", "message": "no deployment 'nope': `zpanel deployments APP` lists them"}
            }
            await ws.wait_closed()
            assert ws.close_code == 4404
        cookie = {"Cookie": f"zpanel_token={api.token}"}
        async with connect(f"ws://{host}/api/v1/deployments/{dep_id}/logs/ws", additional_headers=cookie) as ws:
            await api.conductor.cancel(dep_id)  # running (admitted) → cancel requested; end it as the stage would
            dep = await api.state.deployments.get(dep_id)
            await api.bus.publish(DeploymentCancelled(deployment_id=dep_id, app_id=dep.app_id, server_id="local"))
            messages = [json.loads(m) async for m in ws]
            assert messages[-1] == {"status": "cancelled"}
            assert shape(messages[-2]) == ("finish", "system", "deployment cancelled")
