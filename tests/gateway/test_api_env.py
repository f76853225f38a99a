"""Environment variables: secret values sealed at rest and shown as ******** everywhere."""

from __future__ import annotations

from tests.gateway.apistack import CANARY, Api, api_fixture  # noqa: F401


async def test_set_list_and_delete(api: Api) -> None:
    await api.add_local()
    created = await api.create_app()
    r = await api.request("PUT", "/api/v1/applications/web/env/DATABASE_URL", json={"value": CANARY, "secret": True})
    assert (r.status_code, r.json()) == (
        200,
        {"key": "DATABASE_URL", "value": "********", "secret": True, "build_time": False},
    )
    r = await api.request(
        "PUT", "/api/v1/applications/web/env/NODE_ENV", json={"value": "production", "build_time": True}
    )
    assert r.json() == {"key": "NODE_ENV", "value": "production", "secret": False, "build_time": True}
    await api.request("PUT", "/api/v1/applications/web/env/NODE_ENV", json={"value": "staging"})
    assert (await api.request("GET", "/api/v1/applications/web/env")).json() == [
        {"key": "DATABASE_URL", "value": "********", "secret": True, "build_time": False},
        {"key": "NODE_ENV", "value": "staging", "secret": False, "build_time": False},
    ]
    record = await api.state.apps.get(created["id"])
    assert CANARY not in record.model_dump_json()
    assert api.cipher.open(record.env[0].value) == CANARY
    assert (await api.request("DELETE", "/api/v1/applications/web/env/NODE_ENV")).status_code == 204
    assert [v["key"] for v in (await api.request("GET", "/api/v1/applications/web/env")).json()] == ["DATABASE_URL"]
    r = await api.request("DELETE", "/api/v1/applications/web/env/NODE_ENV")
    assert (r.status_code, r.json()["error"]) == (
        404,
        {"code": "not_found", "message": "web has no variable 'NODE_ENV': GET …/env lists them"},
    )


async def test_errors(api: Api) -> None:
    await api.add_local()
    await api.create_app()
    r = await api.request("PUT", "/api/v1/applications/web/env/1BAD", json={"value": "x"})
    assert (r.status_code, r.json()["error"]) == (
        422,
        {
            "code": "invalid",
            "message": "key: environment variable name '1BAD' is not valid: use letters, digits and '_'",
        },
    )
    r = await api.request("PUT", "/api/v1/applications/web/env/OK", json={"secret": True})
    assert r.json()["error"] == {"code": "invalid", "message": "value: Field required"}
    r = await api.request("PUT", "/api/v1/applications/nope/env/OK", json={"value": "x"})
    assert r.status_code == 404
