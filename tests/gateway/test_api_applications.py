"""Applications over HTTP: exact JSON, secrets sealed and never shown again, the server must
exist, names are unique, schedules follow the field, deploy and redeploy go through the conductor."""

from __future__ import annotations

from typing import Any

import nats.js.errors
import pytest

from tests.gateway.apistack import CANARY, PUBLIC_URL, Api, api_fixture  # noqa: F401
from zpanel import subjects
from zpanel.events import BuildDone, DeploymentSucceeded
from zpanel.models import Status

HEALTH: dict[str, Any] = {
    "type": "http",
    "path": "/",
    "expected_status": [200, 399],
    "body_contains": None,
    "host_header": None,
    "command": None,
    "interval": 0.25,
    "timeout": 5.0,
    "retries": 3,
    "start_period": 60.0,
    "successes": 1,
}
BUILD: dict[str, Any] = {
    "kind": "auto",
    "dockerfile": "Dockerfile",
    "target": None,
    "context": ".",
    "args": {},
    "compose_file": "docker-compose.yml",
    "submodules": False,
}
URLS = {p: f"{PUBLIC_URL}/webhooks/{p}" for p in ("github", "gitlab", "bitbucket", "gitea")}


def expected(created: dict[str, Any], **over: Any) -> dict[str, Any]:
    base = {
        "id": created["id"],
        "name": "web",
        "repo": "https://github.com/Codertocat/Hello-World.git",
        "branch": "main",
        "server": "local",
        "domains": [],
        "port": 8080,
        "build": "auto",
        "build_settings": BUILD,
        "strategy": "zero-downtime",
        "replicas": 1,
        "previews": False,
        "schedule": None,
        "pre_deploy": None,
        "post_deploy": None,
        "health": HEALTH,
        "notify": [],
        "auto_deploy": True,
        "watch_paths": [],
        "drain_timeout": 30.0,
        "resources": {"memory": None, "cpus": None, "volumes": []},
        "webhook_urls": URLS,
        "created_at": created["created_at"],
    }
    return base | over


async def test_create_answers_the_application_and_its_secret_once(api: Api) -> None:
    await api.add_local()
    created = await api.create_app(
        webhook_secret=CANARY,
        domains=["Web.Example.com"],
        build="dockerfile",
        health_path="/up",
        notify=[f"slack://{CANARY}/T1/B2", f"https://hooks.example.com/{CANARY}"],
        pre_deploy="./migrate",
        replicas=2,
        strategy="blue-green",
        watch_paths=["src/"],
    )
    want = expected(
        created,
        domains=["web.example.com"],
        build="dockerfile",
        build_settings=BUILD | {"kind": "dockerfile"},
        health=HEALTH | {"path": "/up"},
        notify=["slack://********", "https://********"],
        pre_deploy="./migrate",
        replicas=2,
        strategy="blue-green",
        watch_paths=["src/"],
    )
    assert created == want | {"webhook_secret": CANARY}
    shown = (await api.request("GET", "/api/v1/applications/web")).json()
    assert shown == want | {"current_deployment": None, "last_deployment": None}
    assert (await api.request("GET", f"/api/v1/applications/{created['id']}")).json() == shown
    assert (await api.request("GET", "/api/v1/applications")).json() == [want]
    record = await api.state.apps.get(created["id"])
    assert CANARY not in record.model_dump_json()  # sealed at rest too
    assert api.cipher.open(record.webhook_secret) == CANARY


async def test_a_secret_is_generated_when_none_is_given(api: Api) -> None:
    await api.add_local()
    created = await api.create_app()
    record = await api.state.apps.get(created["id"])
    assert len(created["webhook_secret"]) == 43
    assert api.cipher.open(record.webhook_secret) == created["webhook_secret"]
    assert "webhook_secret" not in (await api.request("GET", "/api/v1/applications/web")).json()


async def test_create_errors(api: Api) -> None:
    body = {"name": "web", "repo": "https://github.com/a/b.git", "server": "local"}
    r = await api.request("POST", "/api/v1/applications", json=body)
    assert (r.status_code, r.json()) == (
        404,
        {
            "error": {
                "code": "not_found",
                "message": "no server 'local': register it first with `zpanel server add local --host HOST --key FILE`",
            }
        },
    )
    await api.add_local()
    await api.create_app()
    r = await api.request("POST", "/api/v1/applications", json=body)
    assert (r.status_code, r.json()) == (
        409,
        {"error": {"code": "conflict", "message": "an application named 'web' exists already; pick another name"}},
    )
    r = await api.request("POST", "/api/v1/applications", json=body | {"name": "Bad_Name"})
    assert (r.status_code, r.json()["error"]) == (
        422,
        {
            "code": "invalid",
            "message": "name: application name 'Bad_Name' is not valid: use 1-63 lowercase letters, digits and '-', "
            "starting with a letter or digit",
        },
    )
    r = await api.request("POST", "/api/v1/applications", json=body | {"name": "w2", "port": 70000})
    assert r.json()["error"] == {"code": "invalid", "message": "port: Input should be less than or equal to 65535"}
    r = await api.request("POST", "/api/v1/applications", json=body | {"name": "w3", "schedule": "61 * * * *"})
    assert r.json()["error"]["message"] == (
        "schedule: schedule '61 * * * *' is not a valid cron expression (minute hour day month weekday)"
    )
    r = await api.request("POST", "/api/v1/applications", json=body | {"name": "w4", "repo": "--upload-pack=x"})
    assert r.status_code == 422
    r = await api.request("POST", "/api/v1/applications", json=body | {"name": "w5", "domains": ["a b"]})
    assert r.json()["error"]["message"] == "domains.0: 'a b' is not a domain name (like app.example.com)"
    r = await api.request("POST", "/api/v1/applications", json={"repo": "x"})
    assert r.json()["error"]["message"] == "server: Field required; name: Field required"


async def test_without_a_valid_token_every_api_route_is_401(api: Api) -> None:
    r = await api.client.get("/api/v1/applications", headers={"Authorization": ""})
    assert (r.status_code, r.json()) == (
        401,
        {
            "error": {
                "code": "unauthorized",
                "message": "missing API token: send `Authorization: Bearer TOKEN` "
                "(the admin token is in $ZPANEL_HOME/stack.json)",
            }
        },
    )
    r = await api.client.get("/api/v1/applications", headers={"Authorization": "Bearer zp_nope"})
    assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
    assert r.json() == {
        "error": {
            "code": "unauthorized",
            "message": "the API token is not valid (revoked or mistyped): use a token from `zpanel` or POST /api/v1/tokens",
        }
    }
    r = await api.client.get("/api/v1/applications", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    api.client.headers.pop("Authorization")
    api.client.cookies.set("zpanel_token", api.token)  # the dashboard's cookie holds the same token
    assert (await api.client.get("/api/v1/applications")).status_code == 200
    api.client.cookies.set("zpanel_token", "zp_nope")
    assert (await api.client.get("/api/v1/servers")).status_code == 401


async def test_patch_changes_only_what_is_given(api: Api) -> None:
    await api.add_local()
    created = await api.create_app(pre_deploy="./migrate")
    r = await api.request(
        "PATCH",
        "/api/v1/applications/web",
        json={"branch": "prod", "port": 9000, "pre_deploy": None, "webhook_secret": CANARY},
    )
    assert r.json() == expected(created, branch="prod", port=9000)
    record = await api.state.apps.get(created["id"])
    assert api.cipher.open(record.webhook_secret) == CANARY

    r = await api.request("PATCH", "/api/v1/applications/web", json={"name": "shop"})
    assert r.json() == expected(created, name="shop", branch="prod", port=9000)
    assert (await api.request("GET", "/api/v1/applications/web")).status_code == 404
    assert (await api.request("GET", "/api/v1/applications/shop")).json()["id"] == created["id"]

    r = await api.request("PATCH", "/api/v1/applications/shop", json={"server": "far"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = await api.request("PATCH", "/api/v1/applications/nope", json={"port": 1})
    assert r.json() == {
        "error": {"code": "not_found", "message": "no application 'nope': `zpanel app list` shows them"}
    }


async def test_schedule_is_set_changed_and_removed(api: Api) -> None:
    await api.add_local()
    created = await api.create_app(schedule="*/5 * * * *")
    subject = subjects.schedule(created["id"])

    async def schedule_header() -> str | None:
        try:
            msg = await api.bus.js.get_msg("SCHEDULES", subject=subject)
        except nats.js.errors.NotFoundError:
            return None
        return (msg.headers or {}).get("Nats-Schedule")

    assert await schedule_header() == "0 */5 * * * *"
    await api.request("PATCH", "/api/v1/applications/web", json={"schedule": "0 3 * * *"})
    assert await schedule_header() == "0 0 3 * * *"
    r = await api.request("PATCH", "/api/v1/applications/web", json={"schedule": None})
    assert r.json()["schedule"] is None
    assert await schedule_header() is None
    await api.request("PATCH", "/api/v1/applications/web", json={"schedule": "@every 1h"})
    assert await schedule_header() == "@every 1h"
    assert (await api.request("DELETE", "/api/v1/applications/web")).status_code == 204
    assert await schedule_header() is None


async def test_delete(api: Api) -> None:
    await api.add_local()
    await api.create_app()
    r = await api.request("DELETE", "/api/v1/applications/web")
    assert (r.status_code, r.content) == (204, b"")
    assert (await api.request("GET", "/api/v1/applications/web")).status_code == 404
    assert (await api.request("DELETE", "/api/v1/applications/web")).status_code == 404
    await api.create_app()  # the name is free again


async def test_deploy_and_show_current_and_last(api: Api) -> None:
    await api.add_local()
    created = await api.create_app()
    r = await api.request("POST", "/api/v1/applications/web/deploy", json={"commit": "a" * 40})
    assert r.status_code == 202
    first = r.json()["deployment_id"]
    assert r.json() == {"deployment_id": first, "status": "queued"}
    ids = {"deployment_id": first, "app_id": created["id"], "server_id": "local"}
    await api.bus.publish(BuildDone(**ids, image="web:aaaa", commit="a" * 40))
    await api.bus.publish(DeploymentSucceeded(**ids))
    await api.wait_status(first, Status.SUCCEEDED)
    r = await api.request("POST", "/api/v1/applications/web/deploy")
    second = r.json()["deployment_id"]
    shown = (await api.request("GET", "/api/v1/applications/web")).json()
    assert (shown["current_deployment"]["id"], shown["last_deployment"]["id"]) == (first, second)
    assert shown["current_deployment"]["image"] == "web:aaaa"


async def test_redeploy_reuses_a_successful_image(api: Api) -> None:
    await api.add_local()
    created = await api.create_app()
    r = await api.request("POST", "/api/v1/applications/web/redeploy", json={})
    assert (r.status_code, r.json()) == (
        404,
        {"error": {"code": "not_found", "message": "web has no earlier successful deployment to roll back to"}},
    )
    first = (await api.request("POST", "/api/v1/applications/web/deploy")).json()["deployment_id"]
    ids = {"deployment_id": first, "app_id": created["id"], "server_id": "local"}
    await api.bus.publish(BuildDone(**ids, image="web:1111", commit="1" * 40))
    await api.bus.publish(DeploymentSucceeded(**ids))
    await api.wait_status(first, Status.SUCCEEDED)
    r = await api.request("POST", "/api/v1/applications/web/redeploy", json={"deployment_id": first})
    assert r.status_code == 202
    dep = await api.state.deployments.get(r.json()["deployment_id"])
    assert (dep.trigger, dep.image, dep.rollback_of, dep.commit) == ("rollback", "web:1111", first, "1" * 40)
    r = await api.request("POST", "/api/v1/applications/web/redeploy", json={"deployment_id": dep.id})
    assert r.status_code == 409
    assert r.json()["error"]["message"] == f"deployment {dep.id} did not succeed (queued); pick one that did"


@pytest.mark.parametrize(
    "path", ["/api/v1/applications/%C3%A9", "/api/v1/applications/a.b", "/api/v1/applications/a%20b"]
)
async def test_names_that_cannot_be_keys_are_simply_not_found(api: Api, path: str) -> None:
    r = await api.request("GET", path)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


async def test_rolling_with_several_replicas_is_accepted(api: Api) -> None:
    await api.add_local()
    body = {"name": "roll", "repo": "https://github.com/a/roll.git", "server": "local", "strategy": "rolling"}
    r = await api.request("POST", "/api/v1/applications", json=body | {"replicas": 3})
    assert (r.status_code, r.json()["strategy"], r.json()["replicas"]) == (201, "rolling", 3)
    r = await api.request("PATCH", "/api/v1/applications/roll", json={"replicas": 2})
    assert (r.status_code, r.json()["replicas"]) == (200, 2)
    assert (await api.state.app("roll")).replicas == 2


async def test_resources_are_set_checked_and_cleared(api: Api) -> None:
    await api.add_local()
    created = await api.create_app(memory="512m", cpus=0.5, volumes=["data:/var/lib/data", "cache:/cache:ro"])
    resources = {"memory": "512m", "cpus": 0.5, "volumes": ["data:/var/lib/data", "cache:/cache:ro"]}
    assert created["resources"] == resources
    for bad, message in [
        ({"memory": "lots"}, "memory: String should match pattern '^[1-9][0-9]{0,6}[kmg]$'"),
        ({"cpus": 0}, "cpus: Input should be greater than 0"),
        ({"volumes": ["/etc:/host"]}, "volumes.0: volume '/etc:/host' is not NAME:/path[:ro]"),
    ]:
        r = await api.request("PATCH", "/api/v1/applications/web", json=bad)
        assert r.status_code == 422 and r.json()["error"]["message"].startswith(message), r.json()
    r = await api.request("PATCH", "/api/v1/applications/web", json={"memory": None, "cpus": None, "volumes": []})
    assert r.json()["resources"] == {"memory": None, "cpus": None, "volumes": []}


async def test_drain_timeout_is_set_and_bounded(api: Api) -> None:
    await api.add_local()
    await api.create_app(drain_timeout=5)
    r = await api.request("PATCH", "/api/v1/applications/web", json={"drain_timeout": 120})
    assert r.json()["drain_timeout"] == 120
    r = await api.request("PATCH", "/api/v1/applications/web", json={"drain_timeout": 7200})
    assert r.json()["error"] == {
        "code": "invalid",
        "message": "drain_timeout: Input should be less than or equal to 3600",
    }
    assert (await api.state.app("web")).drain_timeout == 120
