"""The applications list and one application's page: what they show, that secrets never reach
the HTML, and the Deploy form (CSRF-guarded, through the real conductor)."""

from __future__ import annotations

from tests.dashboard.dashstack import (  # noqa: F401
    Dash,
    cells,
    dash_fixture,
    deploy,
    drive_to_failure,
    drive_to_success,
)
from tests.gateway.apistack import CANARY
from zpanel.models import Status


async def test_the_list_shows_status_serving_commit_domain_and_last_deployment(dash: Dash) -> None:
    await dash.sign_in()
    assert "No applications yet. Register one with" in (await dash.get("/")).text
    app = await dash.app_with_history()
    r = await dash.get("/")
    assert "never deployed" in r.text
    good = await deploy(dash.api)
    await drive_to_success(dash.api, good, app["id"], "a" * 40)
    bad = await deploy(dash.api)
    await drive_to_failure(dash.api, bad, app["id"], "Dockerfile:3: unknown instruction: FORM")

    r = await dash.get("/")
    assert r.status_code == 200
    assert r.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    row = cells(r.text, '<tr data-app="web">')
    assert row[0] == "webhttps://github.com/Codertocat/Hello-World.git · main"
    assert row[1:4] == ["failed", "aaaaaaa", "web.example.com"]
    assert row[4].startswith(f"{bad[:8]} manual")
    assert row[5] == "local"
    assert '<a href="http://web.example.com:8080" rel="noopener" target="_blank">web.example.com</a>' in r.text
    assert f'<a href="/deployments/{bad}" class="mono">{bad[:8]}</a>' in r.text
    # the region the page refreshes, served alone
    part = await dash.get("/partials/apps", headers={"X-Zpanel-Partial": "1"})
    assert part.text.startswith('<div data-live="/partials/apps" data-busy="0">')
    assert cells(part.text, '<tr data-app="web">')[1:3] == ["failed", "aaaaaaa"]


async def test_a_running_deployment_makes_the_region_busy(dash: Dash) -> None:
    await dash.app_with_history()
    await dash.sign_in()
    await deploy(dash.api)
    part = await dash.get("/partials/apps")
    assert part.text.startswith('<div data-live="/partials/apps" data-busy="1">')
    assert cells(part.text, '<tr data-app="web">')[1] == "queued"


async def test_the_app_page_shows_settings_masked_variables_and_deployments(dash: Dash) -> None:
    app = await dash.app_with_history(notify=[f"slack://{CANARY}/T000/B000"], webhook_secret=CANARY)
    api = dash.api
    await api.request("PUT", "/api/v1/applications/web/env/DB_PASSWORD", json={"value": CANARY, "secret": True})
    await api.request("PUT", "/api/v1/applications/web/env/MODE", json={"value": "production", "build_time": True})
    first = await deploy(api)
    await drive_to_success(api, first, app["id"], "b" * 40)
    second = await deploy(api, commit="c" * 40)
    await dash.sign_in()

    r = await dash.get("/apps/web")
    assert r.status_code == 200
    assert CANARY not in r.text
    assert cells(r.text, '<tr data-key="DB_PASSWORD">') == ["DB_PASSWORD", "********", "secret"]
    assert cells(r.text, '<tr data-key="MODE">') == ["MODE", "production", "build time"]
    assert "<dt>Notifications</dt><dd><code>slack://********</code>" in r.text
    assert "<code>https://deploy.example.test/webhooks/github</code>" in r.text
    assert cells(r.text, f'<tr data-id="{second}">')[:4] == [second[:8], "queued", "ccccccc", "manual"]
    assert cells(r.text, f'<tr data-id="{first}">')[:4] == [f"{first[:8]} serving", "succeeded", "bbbbbbb", "manual"]
    assert '<form method="post" action="/apps/web/deploy" class="deploy"><input type="hidden" name="csrf"' in r.text
    part = await dash.get("/partials/apps/web")
    assert part.text.startswith('<div data-live="/partials/apps/web" data-busy="1">')
    assert CANARY not in part.text
    assert (await dash.get(f"/apps/{app['id']}")).status_code == 200  # by id too


async def test_deploy_needs_the_csrf_value_and_goes_through_the_conductor(dash: Dash) -> None:
    app = await dash.app_with_history()
    await dash.sign_in()
    r = await dash.post("/apps/web/deploy", {"commit": ""})
    assert r.status_code == 403
    assert await dash.api.state.app_deployments(app["id"]) == []

    r = await dash.post("/apps/web/deploy", {"csrf": dash.csrf(), "commit": "abc1234"})
    assert r.status_code == 303
    dep_id = r.headers["location"].removeprefix("/deployments/")
    dep = await dash.api.state.deployments.get(dep_id)
    assert (dep.app_name, dep.trigger, dep.commit, dep.status) == ("web", "manual", "abc1234", Status.QUEUED)

    r = await dash.post("/apps/web/deploy", {"csrf": dash.csrf(), "commit": "not a sha"})
    assert r.status_code == 422
    assert "commit: give a commit SHA (4 to 64 hex digits), or leave it empty for the branch head" in r.text


async def test_an_unknown_app_is_a_page_not_json(dash: Dash) -> None:
    await dash.sign_in()
    r = await dash.get("/apps/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Not found</h1><p>no application &#x27;nope&#x27;: `zpanel app list` shows them</p>" in r.text
    r = await dash.get("/partials/apps/nope", headers={"X-Zpanel-Partial": "1"})
    assert (r.status_code, r.text) == (404, "no application 'nope': `zpanel app list` shows them")
