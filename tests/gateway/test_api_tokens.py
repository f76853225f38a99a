"""API tokens: shown once, stored hashed, revocable; the admin token is made once per stack."""

from __future__ import annotations

from tests.gateway.apistack import Api, api_fixture  # noqa: F401
from zpanel.state import keys
from zpanel_webhook_gateway.api.auth import digest, ensure_admin_token


async def test_create_use_list_and_revoke(api: Api) -> None:
    r = await api.request("POST", "/api/v1/tokens", json={"name": "ci"})
    assert r.status_code == 201
    made = r.json()
    assert set(made) == {"id", "name", "token"} and made["name"] == "ci" and made["token"].startswith("zp_")
    ci = {"Authorization": f"Bearer {made['token']}"}
    assert (await api.client.get("/api/v1/servers", headers=ci)).status_code == 200
    listed = (await api.request("GET", "/api/v1/tokens")).json()
    assert [(t["name"], set(t)) for t in listed] == [
        ("admin", {"id", "name", "created_at"}),
        ("ci", {"id", "name", "created_at"}),
    ]
    kv = await api.bus.kv("tokens")
    assert sorted(await keys(kv)) == sorted([digest(api.token), digest(made["token"]), "admin"])
    assert (await api.request("DELETE", f"/api/v1/tokens/{made['id']}")).status_code == 204
    assert (await api.client.get("/api/v1/servers", headers=ci)).status_code == 401
    r = await api.request("DELETE", f"/api/v1/tokens/{made['id']}")
    assert (r.status_code, r.json()["error"]) == (
        404,
        {"code": "not_found", "message": f"no token {made['id']!r}: GET /api/v1/tokens lists them"},
    )


async def test_the_last_token_cannot_be_revoked(api: Api) -> None:
    (admin,) = (await api.request("GET", "/api/v1/tokens")).json()
    r = await api.request("DELETE", f"/api/v1/tokens/{admin['id']}")
    assert (r.status_code, r.json()["error"]) == (
        409,
        {
            "code": "conflict",
            "message": "this is the last API token: create another first, or nobody could use the API",
        },
    )


async def test_admin_token_is_made_once(api: Api) -> None:
    assert await ensure_admin_token(api.bus) is None
    assert await ensure_admin_token(api.bus, "zp_chosen") is None
    r = await api.request("POST", "/api/v1/tokens", json={"name": "bad/name"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid")


async def test_cookie_authenticated_cross_origin_post_is_refused(api) -> None:  # type: ignore[no-untyped-def]
    """The dashboard's cookie must not let another origin (even a same-site one) change anything."""
    import httpx

    from zpanel_webhook_gateway.api.auth import COOKIE

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://gw", cookies={COOKIE: api.token}
    ) as browser:
        refused = await browser.post("/api/v1/tokens", json={"name": "x"}, headers={"Sec-Fetch-Site": "same-site"})
        assert refused.status_code == 403
        assert refused.json() == {
            "error": {"code": "forbidden", "message": "cross-origin request refused: send the token as a Bearer header"}
        }
        listed = await browser.get("/api/v1/tokens", headers={"Sec-Fetch-Site": "same-site"})
        assert listed.status_code == 200  # reading is harmless
        made = await browser.post("/api/v1/tokens", json={"name": "x"}, headers={"Sec-Fetch-Site": "same-origin"})
        assert made.status_code == 201
