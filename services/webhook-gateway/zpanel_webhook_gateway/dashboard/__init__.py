"""The dashboard: server-rendered pages at ``/`` over the same state and conductor as the API,
with a little JavaScript (static/dashboard.js) for live status and the live log."""

from __future__ import annotations

from fastapi import APIRouter

from zpanel_webhook_gateway.dashboard import apps, deployments, dlq, servers, signin, static

router = APIRouter(include_in_schema=False)
for _module in (static, signin, apps, deployments, servers, dlq):
    router.include_router(_module.router)

__all__ = ["router"]
