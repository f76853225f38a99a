"""Deployments over HTTP: exact JSON with stage timings, filters, cancel."""

from __future__ import annotations

import asyncio
from datetime import datetime

from tests.gateway.apistack import Api, api_fixture  # noqa: F401
from zpanel.events import BuildDone, BuildFailed, BuildStarted, DeploymentSucceeded
from zpanel.models import Status


async def two_apps(api: Api) -> tuple[dict[str, str], dict[str, str]]:
    await api.add_local()
    web = await api.create_app(domains=["web.example.com"])
    api_app = await api.create_app(name="api", repo="https://example.org/x/api.git")
    return web, api_app


async def test_detail_follows_the_stages(api: Api) -> None:
    web, _ = await two_apps(api)
    dep_id = (await api.request("POST", "/api/v1/applications/web/deploy", json={"commit": "abcdef1"})).json()[
        "deployment_id"
    ]
    ids = {"deployment_id": dep_id, "app_id": web["id"], "server_id": "local"}
    await api.bus.publish(BuildStarted(**ids, commit="a" * 40))
    await api.bus.publish(BuildDone(**ids, image="web:aaaa", commit="a" * 40))
    # the projection applies events concurrently and ignores any after a terminal one: the real
    # pipeline publishes the end only after build.done was handled, and so does this test
    for _ in range(200):
        if (await api.state.deployments.get(dep_id)).image:
            break
        await asyncio.sleep(0.05)
    await api.bus.publish(DeploymentSucceeded(**ids))
    await api.wait_status(dep_id, Status.SUCCEEDED)
    shown = (await api.request("GET", f"/api/v1/deployments/{dep_id}")).json()
    dep = await api.state.deployments.get(dep_id)
    assert shown == {
        "id": dep_id,
        "app": "web",
        "app_id": web["id"],
        "server": "local",
        "status": "succeeded",
        "commit": "a" * 40,
        "branch": "main",
        "image": "web:aaaa",
        "trigger": "manual",
        "preview": None,
        "created_at": dep.created_at.isoformat(),
        "finished_at": dep.finished_at.isoformat() if dep.finished_at else None,
        "stages": [
            {
                "name": s.name,
                "status": s.status,
                "started_at": s.started_at.isoformat() if s.started_at else None,
                "finished_at": s.finished_at.isoformat() if s.finished_at else None,
                "duration_s": (s.finished_at - s.started_at).total_seconds()
                if s.started_at and s.finished_at
                else None,
            }
            for s in dep.stages
        ],
        "error": None,
        "rollback_of": None,
        "cancel_requested": False,
        "url": "http://web.example.com:8080",
    }
    assert [(s["name"], s["status"]) for s in shown["stages"]] == [
        ("queue", "succeeded"),
        ("build", "succeeded"),
        ("deploy", "succeeded"),
        ("finish", "succeeded"),
    ]
    assert shown["stages"][1]["duration_s"] >= 0


async def test_lists_filter_by_app_and_status(api: Api) -> None:
    web, other = await two_apps(api)
    first = (await api.request("POST", "/api/v1/applications/web/deploy")).json()["deployment_id"]
    ids = {"deployment_id": first, "app_id": web["id"], "server_id": "local"}
    await api.bus.publish(BuildFailed(**ids, reason="Dockerfile:1: unknown instruction: FORM"))
    await api.wait_status(first, Status.FAILED)
    second = (await api.request("POST", "/api/v1/applications/web/deploy")).json()["deployment_id"]
    third = (await api.request("POST", "/api/v1/applications/api/deploy")).json()["deployment_id"]

    def ids_of(r: object) -> list[str]:
        return [d["id"] for d in r.json()]  # type: ignore[attr-defined]

    assert ids_of(await api.request("GET", "/api/v1/deployments")) == [third, second, first]
    assert ids_of(await api.request("GET", "/api/v1/deployments?limit=2")) == [third, second]
    assert ids_of(await api.request("GET", "/api/v1/deployments?app=web")) == [second, first]
    assert ids_of(await api.request("GET", f"/api/v1/deployments?app={other['id']}")) == [third]
    assert ids_of(await api.request("GET", "/api/v1/deployments?status=failed")) == [first]
    assert ids_of(await api.request("GET", "/api/v1/applications/web/deployments?status=queued")) == [second]
    assert ids_of(await api.request("GET", "/api/v1/applications/web/deployments?limit=1")) == [second]
    failed = (await api.request("GET", f"/api/v1/deployments/{first}")).json()
    assert (failed["status"], failed["error"], failed["url"]) == (
        "failed",
        "Dockerfile:1: unknown instruction: FORM",
        None,
    )
    r = await api.request("GET", "/api/v1/deployments?status=lost")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid")
    assert r.json()["error"]["message"].startswith("query.status: Input should be 'queued', 'building'")
    assert (await api.request("GET", "/api/v1/deployments?app=nope")).status_code == 404
    assert datetime.fromisoformat((await api.request("GET", "/api/v1/deployments")).json()[0]["created_at"])


async def test_cancel_queued_then_409_once_ended(api: Api) -> None:
    await two_apps(api)
    running = (await api.request("POST", "/api/v1/applications/web/deploy")).json()["deployment_id"]
    waiting = (await api.request("POST", "/api/v1/applications/web/deploy")).json()["deployment_id"]
    r = await api.request("POST", f"/api/v1/deployments/{waiting}/cancel")
    assert (r.status_code, r.json()) == (
        202,
        {"deployment_id": waiting, "status": "queued", "cancel_requested": True},
    )
    await api.wait_status(waiting, Status.CANCELLED)
    r = await api.request("POST", f"/api/v1/deployments/{waiting}/cancel")
    assert (r.status_code, r.json()) == (
        409,
        {
            "error": {
                "code": "conflict",
                "message": f"deployment {waiting} already ended (cancelled); nothing to cancel",
            }
        },
    )
    r = await api.request("POST", f"/api/v1/deployments/{running}/cancel")
    assert r.status_code == 202
    assert (await api.request("GET", f"/api/v1/deployments/{running}")).json()["cancel_requested"] is True
    r = await api.request("POST", "/api/v1/deployments/nope/cancel")
    assert (r.status_code, r.json()) == (
        404,
        {"error": {"code": "not_found", "message": "no deployment 'nope': `zpanel deployments APP` lists them"}},
    )
