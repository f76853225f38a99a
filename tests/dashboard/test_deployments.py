"""A deployment's page: status, failure reason, stage timeline, Cancel, Redeploy this version."""

from __future__ import annotations

import re

from tests.dashboard.dashstack import Dash, dash_fixture, deploy, drive_to_failure, drive_to_success  # noqa: F401
from zpanel.models import Status


def stages(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<li class="stage [^"]+" data-stage="(\w+)">.*?<span class="stage-status">([^<]+)</span>', html, re.S
    )


async def test_a_failed_deployment_shows_its_reason_and_stages(dash: Dash) -> None:
    app = await dash.app_with_history()
    dep_id = await deploy(dash.api)
    await drive_to_failure(dash.api, dep_id, app["id"], "Dockerfile:3: unknown instruction: <FORM>")
    await dash.sign_in()
    r = await dash.get(f"/deployments/{dep_id}")
    assert r.status_code == 200
    assert f'data-live="/partials/deployments/{dep_id}" data-busy="0" data-status="failed"' in r.text
    assert '<span class="status s-failed" data-status="failed">failed</span>' in r.text
    assert (
        '<div class="reason" role="alert"><strong>Why it failed:</strong> '
        "Dockerfile:3: unknown instruction: &lt;FORM&gt;</div>"
    ) in r.text
    assert stages(r.text) == [
        ("queue", "succeeded"),
        ("build", "failed"),
        ("deploy", "not run"),
        ("health", "not run"),
        ("route", "not run"),
        ("finish", "failed"),
    ]
    assert f'data-ws="/api/v1/deployments/{dep_id}/logs/ws"' in r.text
    assert "Redeploy this version" not in r.text and ">Cancel<" not in r.text
    r = await dash.post(f"/deployments/{dep_id}/redeploy", {"csrf": dash.csrf()})
    assert r.status_code == 409
    assert f"deployment {dep_id} did not succeed (failed); pick one that did" in r.text


async def test_cancel_a_running_deployment(dash: Dash) -> None:
    await dash.app_with_history()
    dep_id = await deploy(dash.api)
    await dash.sign_in()
    r = await dash.get(f"/deployments/{dep_id}")
    assert f'<form method="post" action="/deployments/{dep_id}/cancel" class="inline"' in r.text
    assert stages(r.text)[:2] == [("queue", "succeeded"), ("build", "pending")]
    assert (await dash.post(f"/deployments/{dep_id}/cancel", {})).status_code == 403
    assert not (await dash.api.state.deployments.get(dep_id)).cancel_requested
    r = await dash.post(f"/deployments/{dep_id}/cancel", {"csrf": dash.csrf()})
    assert (r.status_code, r.headers["location"]) == (303, f"/deployments/{dep_id}")
    assert (await dash.api.state.deployments.get(dep_id)).cancel_requested
    part = await dash.get(f"/partials/deployments/{dep_id}")
    assert '<span class="muted">cancelling…</span>' in part.text


async def test_redeploy_this_version_is_a_rollback(dash: Dash) -> None:
    app = await dash.app_with_history()
    old = await deploy(dash.api)
    await drive_to_success(dash.api, old, app["id"], "1" * 40)
    new = await deploy(dash.api)
    await drive_to_success(dash.api, new, app["id"], "2" * 40)
    await dash.sign_in()
    r = await dash.get(f"/deployments/{old}")
    assert stages(r.text) == [(s, "succeeded") for s in ("queue", "build", "deploy", "health", "route", "finish")]
    assert f'<form method="post" action="/deployments/{old}/redeploy" class="inline"' in r.text
    assert '<a href="http://web.example.com:8080" rel="noopener" target="_blank">' in r.text

    assert (await dash.post(f"/deployments/{old}/redeploy", {"csrf": "wrong" * 9})).status_code == 403
    r = await dash.post(f"/deployments/{old}/redeploy", {"csrf": dash.csrf()})
    assert r.status_code == 303
    back = await dash.api.state.deployments.get(r.headers["location"].removeprefix("/deployments/"))
    assert (back.trigger, back.rollback_of, back.image, back.commit) == ("rollback", old, "web:111111111111", "1" * 40)
    assert back.status is Status.QUEUED
    page = await dash.get(f"/deployments/{back.id}")
    assert f'<dd>rollback of <a href="/deployments/{old}" class="mono">{old[:8]}</a></dd>' in page.text


async def test_an_unknown_deployment_is_a_404_page(dash: Dash) -> None:
    await dash.sign_in()
    r = await dash.get("/deployments/0123abcd")
    assert r.status_code == 404
    assert "no deployment &#x27;0123abcd&#x27;: `zpanel deployments APP` lists them" in r.text
