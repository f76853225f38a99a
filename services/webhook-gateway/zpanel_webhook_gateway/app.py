"""The gateway's FastAPI application: webhooks, the control API, health, OpenAPI at /openapi.json.

Everything with I/O is handed in (bus, state, conductor, cipher, the server checker), so tests
run the real app against a real nats-server with nothing patched.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import Receive, Scope, Send

from zpanel.bus import Bus
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.state import State
from zpanel_webhook_gateway.api import (
    applications,
    deployments,
    dlq,
    env,
    errors,
    hotpath,
    logs,
    servers,
    tokens,
    webhooks,
)
from zpanel_webhook_gateway.api.deps import Deps, Limits, ServerChecker
from zpanel_webhook_gateway.api.servercheck import default_server_checker
from zpanel_webhook_gateway.conductor import Conductor
from zpanel_webhook_gateway.dashboard import router as dashboard_router

__all__ = ["GatewayApp", "Limits", "create_app"]


class GatewayApp(FastAPI):
    """FastAPI, with provider webhooks answered before its middleware stack and router: the hot
    path of the gateway (see ``api/hotpath.py``); every other request goes the usual way."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if hotpath.served_here(scope):
            scope["app"] = self
            await hotpath.serve(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    bus: Bus,
    state: State,
    conductor: Conductor,
    cipher: Cipher,
    settings: Settings,
    *,
    server_checker: ServerChecker | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    app = GatewayApp(
        title="Zpanel",
        version="1",
        description="Push-to-deploy: provider webhooks and the control API. "
        "Every /api/v1 route wants `Authorization: Bearer TOKEN`.",
    )
    app.state.deps = Deps(
        bus=bus,
        state=state,
        conductor=conductor,
        cipher=cipher,
        settings=settings,
        server_checker=server_checker or default_server_checker,
        limits=limits or Limits(),
    )
    errors.install(app)

    @app.get("/healthz", tags=["health"], summary="Liveness, and whether NATS is connected")
    async def healthz() -> JSONResponse:
        up = bus.nc.is_connected
        body: dict[str, Any] = {"status": "ok" if up else "degraded", "nats": up}
        return JSONResponse(body, status_code=200 if up else 503)

    for module in (applications, env, deployments, logs, servers, dlq, tokens, webhooks):
        app.include_router(module.router)
    app.include_router(dashboard_router)
    # a span per request (continuing a caller's traceparent): a deployment's trace starts here
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz")
    return app
