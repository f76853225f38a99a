"""The shipped assets, and that the dashboard stays out of the API's OpenAPI document."""

from __future__ import annotations

from tests.dashboard.dashstack import Dash, dash_fixture  # noqa: F401
from zpanel_webhook_gateway.dashboard.static import asset_url


async def test_assets_are_served_with_their_types_and_cached_by_version(dash: Dash) -> None:
    url = asset_url("dashboard.js")
    assert url.startswith("/static/dashboard.js?v=") and len(url) == len("/static/dashboard.js?v=") + 12
    r = await dash.get(url)
    assert (r.status_code, r.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.text.startswith("// Zpanel dashboard")
    r = await dash.get(asset_url("dashboard.css"))
    assert (r.status_code, r.headers["content-type"]) == (200, "text/css; charset=utf-8")
    assert (await dash.get("/static/../app.py")).status_code == 404
    assert (await dash.get("/static/app.py")).status_code == 404


async def test_openapi_lists_only_the_api(dash: Dash) -> None:
    paths = (await dash.api.request("GET", "/openapi.json")).json()["paths"]
    assert [p for p in paths if not p.startswith(("/api/v1", "/webhooks", "/healthz"))] == []
