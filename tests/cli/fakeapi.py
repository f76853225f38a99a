"""A stand-in for the gateway's API (routes and shapes of /work/notes/api.md), served for real by
uvicorn on a free loopback port, so the CLI's HTTP and WebSocket code runs unmodified. It records
every request body so tests can assert what the CLI sent. Replace with the real gateway once its
API lands (see the report of issue 8)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from tests.harness.nats import free_port

TOKEN = "zpt_test-token"
BASE = "http://zpanel.test"


def err(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def application(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"app-{name}",
        "name": name,
        "repo": extra.get("repo", f"https://git.example/{name}.git"),
        "branch": extra.get("branch", "main"),
        "server": extra.get("server", "local"),
        "domains": extra.get("domains", []),
        "port": extra.get("port", 8080),
        "build": {"kind": extra.get("build", "auto")},
        "strategy": "zero-downtime",
        "replicas": 1,
        "webhook_urls": {p: f"{BASE}/webhooks/{p}" for p in ("github", "gitlab", "bitbucket", "gitea")},
        "created_at": "2026-11-27T10:00:00+00:00",
    }


def stage(name: str, status: str, start: str, end: str | None) -> dict[str, Any]:
    return {"name": name, "status": status, "started_at": start, "finished_at": end, "duration_s": 1.5}


def deployment(dep_id: str, app: str, status: str, error: str | None = None) -> dict[str, Any]:
    return {
        "id": dep_id,
        "app": app,
        "app_id": f"app-{app}",
        "server": "local",
        "status": status,
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "image": f"zpanel/{app}:0123456",
        "trigger": "manual",
        "created_at": "2026-11-27T10:00:00+00:00",
        "finished_at": "2026-11-27T10:00:03+00:00",
        "stages": [
            stage("build", "succeeded", "2026-11-27T10:00:00+00:00", "2026-11-27T10:00:01.500000+00:00"),
            stage(
                "deploy",
                "failed" if error else "succeeded",
                "2026-11-27T10:00:01.500000+00:00",
                "2026-11-27T10:00:03+00:00",
            ),
        ],
        "error": error,
        "rollback_of": None,
        "url": f"http://{app}.localhost/",
    }


def log_lines(n: int = 3) -> list[dict[str, Any]]:
    stages = ["build", "build", "deploy", "health"]
    return [
        {"ts": f"2026-11-27T10:00:0{i}+00:00", "stage": stages[i % 4], "stream": "stdout", "line": f"line {i}"}
        for i in range(n)
    ]


@dataclass
class Fake:
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ws_refused: set[str] = field(default_factory=set)
    ws_hangs: set[str] = field(default_factory=set)
    outcomes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """app → (terminal status, error) its next deployment ends with; its log gets four lines."""
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    url: str = ""

    def reset(self) -> None:
        self.apps.clear()
        self.deployments.clear()
        self.logs.clear()
        self.ws_refused.clear()
        self.ws_hangs.clear()
        self.outcomes.clear()
        self.requests.clear()


def make_app(fake: Fake) -> FastAPI:
    api = FastAPI()

    @api.middleware("http")
    async def auth_and_record(request: Request, call_next: Any) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return err(401, "unauthorized", "missing or bad token")
        body = await request.body()
        fake.requests.append(
            (
                request.method,
                request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                body.decode() or None,
            )
        )
        return await call_next(request)

    @api.post("/api/v1/applications", status_code=201)
    async def create_app(body: dict[str, Any]) -> Any:
        if body["name"] in fake.apps:
            return err(409, "conflict", f"application {body['name']} exists: pick another name")
        created = application(**body)
        fake.apps[body["name"]] = created
        return {**created, "webhook_secret": body.get("webhook_secret", "generated-secret")}

    @api.get("/api/v1/applications")
    async def list_apps() -> Any:
        return list(fake.apps.values())

    @api.get("/api/v1/applications/{app}")
    async def show_app(app: str) -> Any:
        if app not in fake.apps:
            return err(404, "not_found", f"no application {app}: see `zpanel app list`")
        return {**fake.apps[app], "current_deployment": None, "last_deployment": None}

    @api.put("/api/v1/applications/{app}/env/{key}")
    async def put_env(app: str, key: str, body: dict[str, Any]) -> Any:
        value = "********" if body.get("secret") else body["value"]
        return {
            "key": key,
            "value": value,
            "secret": body.get("secret", False),
            "build_time": body.get("build_time", False),
        }

    @api.post("/api/v1/applications/{app}/deploy", status_code=202)
    async def deploy(app: str, body: dict[str, Any]) -> Any:
        dep_id = f"dep-{len(fake.deployments) + 1}"
        status, error = fake.outcomes.get(app, ("queued", None))
        fake.deployments[dep_id] = deployment(dep_id, app, status, error)
        if app in fake.outcomes:
            fake.logs[dep_id] = log_lines(4)
        return {"deployment_id": dep_id, "status": "queued"}

    @api.post("/api/v1/applications/{app}/redeploy", status_code=202)
    async def redeploy(app: str, body: dict[str, Any]) -> Any:
        return {"deployment_id": "dep-rb", "status": "queued"}

    @api.get("/api/v1/applications/{app}/deployments")
    async def app_deployments(app: str) -> Any:
        return [d for d in fake.deployments.values() if d["app"] == app]

    @api.get("/api/v1/deployments/{dep_id}")
    async def show_dep(dep_id: str) -> Any:
        if dep_id not in fake.deployments:
            return err(404, "not_found", f"no deployment {dep_id}")
        return fake.deployments[dep_id]

    @api.get("/api/v1/deployments/{dep_id}/logs")
    async def get_logs(dep_id: str) -> Any:
        return {"lines": fake.logs.get(dep_id, []), "final": fake.deployments[dep_id]["status"] != "queued"}

    @api.post("/api/v1/deployments/{dep_id}/cancel", status_code=202)
    async def cancel(dep_id: str) -> Any:
        if fake.deployments.get(dep_id, {}).get("status") in ("succeeded", "failed"):
            return err(409, "conflict", f"deployment {dep_id} already ended")
        return {"deployment_id": dep_id, "status": "cancelled"}

    @api.post("/api/v1/servers", status_code=201)
    async def add_server(body: dict[str, Any]) -> Any:
        return {k: v for k, v in body.items() if k != "private_key"}

    @api.post("/api/v1/servers/{name}/check")
    async def check(name: str) -> Any:
        ok = name != "broken"
        return {
            "server": name,
            "ssh": {"ok": True, "detail": "connected as root"},
            "docker": {
                "ok": ok,
                "detail": "20.10.24" if ok else "permission denied on /var/run/docker.sock",
                "version": "20.10.24" if ok else None,
            },
        }

    @api.get("/api/v1/dlq")
    async def dlq() -> Any:
        return [
            {
                "id": "7",
                "stage": "builder",
                "subject": "dlq.builder",
                "reason": "git clone failed",
                "num_delivered": 3,
                "deployment_id": "dep-9",
                "failed_at": "2026-11-27T10:00:00+00:00",
            }
        ]

    @api.post("/api/v1/dlq/{id_}/replay", status_code=202)
    async def replay(id_: str) -> Any:
        return {"id": id_, "replayed_as": 42}

    @api.websocket("/api/v1/deployments/{dep_id}/logs/ws")
    async def ws_logs(ws: WebSocket, dep_id: str) -> None:
        if ws.headers.get("authorization") != f"Bearer {TOKEN}":
            await ws.close(code=4401)
            return
        if dep_id in fake.ws_refused:
            await ws.close(code=1008)  # before accept: the handshake answers 403
            return
        await ws.accept()
        for line in fake.logs.get(dep_id, []):
            await ws.send_json(line)
            await asyncio.sleep(0)
        while dep_id in fake.ws_hangs:  # a deployment that never ends
            await asyncio.sleep(0.05)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client may have given up
            await ws.send_json({"status": fake.deployments[dep_id]["status"]})
            await ws.close()

    return api


def serve() -> tuple[Fake, uvicorn.Server]:
    fake = Fake()
    port = free_port()
    config = uvicorn.Config(make_app(fake), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    fake.url = f"http://127.0.0.1:{port}"
    return fake, server
