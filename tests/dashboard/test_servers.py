"""Servers: each with the apps on it, and its reachability from the server check."""

from __future__ import annotations

from typing import Any

from tests.dashboard.dashstack import Dash, cells, dash_fixture, deploy, drive_to_success  # noqa: F401
from zpanel.models import Server
from zpanel.secrets import Cipher


async def test_servers_list_their_apps_and_the_check_says_if_they_answer(dash: Dash) -> None:
    app = await dash.app_with_history()
    dep = await deploy(dash.api)
    await drive_to_success(dash.api, dep, app["id"], "9" * 40)
    await dash.sign_in()
    r = await dash.get("/servers")
    assert r.status_code == 200
    assert '<section class="card server" id="server-local"><div class="card-head"><h2>local</h2>' in r.text
    assert '<div class="probes" id="check-local" data-load="/partials/servers/local/check">' in r.text
    assert cells(r.text, '<tr data-app="web">') == ["web", "succeeded", dep[:8], "9999999", "web.example.com"]
    check = await dash.get("/partials/servers/local/check", headers={"X-Zpanel-Partial": "1"})
    assert check.text == (
        '<div class="probe p-ok"><span class="probe-name">SSH</span> <strong>reachable</strong>'
        '<div class="muted small">ssh root@127.0.0.1</div></div>'
        '<div class="probe p-ok"><span class="probe-name">Docker</span> <strong>reachable</strong> '
        '<span class="muted">(0)</span><div class="muted small">fake</div></div>'
    )


async def test_an_unreachable_server_says_so(dash: Dash) -> None:
    async def down(server: Server, cipher: Cipher) -> dict[str, Any]:
        return {
            "ssh": {"ok": False, "detail": "connection refused on 10.0.0.9:22"},
            "docker": {"ok": None, "detail": "not checked: SSH failed", "version": None},
        }

    dash.api.app.state.deps.server_checker = down
    await dash.api.add_local()
    await dash.sign_in()
    check = await dash.get("/partials/servers/local/check")
    assert '<span class="probe-name">SSH</span> <strong>unreachable</strong>' in check.text
    assert "connection refused on 10.0.0.9:22" in check.text
    assert '<span class="probe-name">Docker</span> <strong>not checked</strong>' in check.text
    assert (await dash.get("/partials/servers/nope/check")).status_code == 404
