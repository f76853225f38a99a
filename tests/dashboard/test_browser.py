"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against the real
gateway on a real uvicorn: sign in, open an app, press Deploy, watch the stages and the log arrive
live, see ``succeeded``, then roll back to the previous deployment with its button. The stages are
published on the bus as builder, deployer, health and proxy-sync would. Screenshots of every page
go to test-artifacts/dashboard/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Dialog, Page, async_playwright, expect

from tests.dashboard.dashstack import deploy, drive_to_success
from tests.gateway.apistack import CANARY, make_api, serving
from tests.harness.nats import NatsServer
from zpanel import logstream
from zpanel.events import (
    BuildDone,
    BuildStarted,
    DeadLetter,
    DeployDone,
    DeploymentRequested,
    DeploymentSucceeded,
    HealthPassed,
    ProxyUpdated,
)
from zpanel.models import ContainerRef

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.timeout(90)
async def test_deploy_follow_the_log_and_roll_back_in_chromium(own_nats: NatsServer) -> None:
    api, _ = await make_api(own_nats.url)
    await api.add_local()
    app = await api.create_app(domains=["web.example.com"])
    await api.request("PUT", "/api/v1/applications/web/env/API_KEY", json={"value": CANARY, "secret": True})
    await api.request("PUT", "/api/v1/applications/web/env/LOG_LEVEL", json={"value": "info"})
    previous = await deploy(api)
    await drive_to_success(api, previous, app["id"], "1a2b3c4d" * 5, ("Step 1/2 : FROM busybox", "done"))
    letter = DeadLetter(
        stage="builder",
        subject="deployment.requested.local",
        stream="PIPELINE",
        stream_seq=7,
        consumer="builder_local",
        reason="git clone failed: could not resolve host git.example.com",
        num_delivered=3,
        data=DeploymentRequested(
            deployment_id="d9", app_id=app["id"], server_id="local", trigger="push"
        ).model_dump_json(),
        deployment_id="d9",
    )
    await api.bus.publish(letter, msg_id="dlq:PIPELINE:7")

    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        # Chromium aborts requests in flight when the host's interfaces change, which Docker does
        # whenever a test running beside this one starts a container; not the dashboard's doing
        if msg.type in ("error", "warning") and "ERR_NETWORK_CHANGED" not in msg.text:
            problems.append(msg.text)

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    async with serving(api.app) as host, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            page.on("console", on_console)
            page.on("dialog", accept)
            base = f"http://{host}"

            # sign in: the form, then the applications list
            await page.goto(f"{base}/apps/web")
            assert page.url == f"{base}/signin?next=%2Fapps%2Fweb"
            await shot(page, "01-signin")
            await page.fill("#token", api.token)
            await page.click("button:has-text('Sign in')")
            await page.wait_for_url(f"{base}/apps/web")
            assert api.token not in page.url
            cookies = {c["name"]: c for c in await page.context.cookies()}
            assert (cookies["zpanel_token"]["httpOnly"], cookies["zpanel_token"]["sameSite"]) == (True, "Strict")
            await page.click("a.brand")
            row = page.locator('tr[data-app="web"]')
            await expect(row.locator(".status")).to_have_text("succeeded")
            await expect(row.locator("code.sha")).to_have_text("1a2b3c4")
            await shot(page, "02-applications")

            # the application, then Deploy
            await row.locator("a.app-name").click()
            await page.wait_for_url(f"{base}/apps/web")
            await expect(page.locator('tr[data-key="API_KEY"] code.masked')).to_have_text("********")
            assert CANARY not in await page.content()
            await shot(page, "03-application")
            await page.click("#deploy")
            await page.wait_for_url(re.compile(r".*/deployments/[0-9a-f]{32}$"))
            dep_id = page.url.rsplit("/", 1)[1]
            record = await api.state.deployments.get(dep_id)
            assert (record.app_name, record.trigger) == ("web", "manual")
            status = page.locator("[data-live] dd .status")
            await expect(status).to_have_text("queued")
            await expect(page.locator("#log-state")).to_have_text("following the log…")

            # the stages arrive on the bus; the page follows without reloading
            ids = {"deployment_id": dep_id, "app_id": app["id"], "server_id": "local"}
            sha = "5e6f7a8b" * 5
            box = ContainerRef(id="c2", name="web-2", address="127.0.0.1:4001")
            await api.bus.publish(BuildStarted(**ids, commit=sha))
            await expect(status).to_have_text("building")
            for n in range(1, 4):
                await logstream.append(api.bus, dep_id, "build", f"Step {n}/3 : building layer {n}", "stdout")
                await expect(page.locator("#log")).to_contain_text(f"Step {n}/3 : building layer {n}")
            await logstream.append(api.bus, dep_id, "build", "warning: no .dockerignore", "stderr")
            await api.bus.publish(BuildDone(**ids, image=f"web:{sha[:12]}", commit=sha))
            await api.bus.publish(DeployDone(**ids, image=f"web:{sha[:12]}", containers=[box]))
            await logstream.append(api.bus, dep_id, "deploy", "started web-2 on 127.0.0.1:4001", "system")
            await expect(status).to_have_text("health_checking")
            await expect(page.locator('li[data-stage="build"] .stage-status')).to_have_text("succeeded")
            await shot(page, "04-deployment-running")
            await api.bus.publish(HealthPassed(**ids, containers=[box]))
            await api.bus.publish(ProxyUpdated(**ids, domains=["web.example.com"]))
            await api.bus.publish(DeploymentSucceeded(**ids))
            await expect(status).to_have_text("succeeded")
            await expect(page.locator("#log-state")).to_have_text("log complete · succeeded")
            await expect(page.locator("#log")).to_contain_text("deployment succeeded")
            log_text = await page.locator("#log").inner_text()
            assert log_text.count("Step 1/3 : building layer 1") == 1  # followed live, never replayed twice
            stages = await page.locator("li.stage .stage-status").all_inner_texts()
            assert stages == ["succeeded"] * 6
            await expect(page.locator("button:has-text('Redeploy this version')")).to_be_visible()
            await shot(page, "05-deployment-succeeded")

            # roll back: open the previous deployment from the app's list and redeploy it
            await page.click("h1 a[href='/apps/web']")
            await expect(page.locator(f'tr[data-id="{dep_id}"] .tag')).to_have_text("serving")
            await page.click(f'tr[data-id="{previous}"] a')
            await page.wait_for_url(f"{base}/deployments/{previous}")
            await page.click("button:has-text('Redeploy this version')")
            await page.wait_for_url(re.compile(r".*/deployments/[0-9a-f]{32}$"))
            rollback_id = page.url.rsplit("/", 1)[1]
            assert rollback_id not in (previous, dep_id)
            back = await api.state.deployments.get(rollback_id)
            assert (back.trigger, back.rollback_of, back.image) == ("rollback", previous, "web:1a2b3c4d1a2b")
            await expect(page.locator("dd:has-text('rollback of')")).to_have_text(f"rollback of {previous[:8]}")
            await shot(page, "06-rollback")
            await page.click("h1 a[href='/apps/web']")
            await expect(page.locator(f'tr[data-id="{rollback_id}"] td').nth(3)).to_have_text(
                f"rollback of {previous[:8]}"
            )

            # servers (reachability comes in after the page) and dead letters (replay)
            await page.click("nav a:has-text('Servers')")
            await expect(page.locator("#check-local .probe-name")).to_have_text(["SSH", "Docker"])
            await expect(page.locator("#check-local strong")).to_have_text(["reachable", "reachable"])
            await shot(page, "07-servers")
            await page.click("nav a:has-text('Dead letters')")
            await expect(page.locator("td.reason-cell")).to_have_text(
                "git clone failed: could not resolve host git.example.com"
            )
            await shot(page, "08-dead-letters")
            await page.click("button:has-text('Replay')")
            await expect(page.locator(".flash")).to_contain_text("replayed as message")
            await expect(page.locator("p.empty")).to_contain_text("No dead letters")

            # sign out: the next page asks for the token again
            await page.click("button:has-text('Sign out')")
            await page.wait_for_url(f"{base}/signin")
            await page.goto(f"{base}/")
            assert page.url == f"{base}/signin"
        finally:
            await browser.close()
    await api.client.aclose()
    await api.bus.close()
    assert problems == []
