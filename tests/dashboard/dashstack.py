"""The real gateway app (dashboard included) on a real nats-server of the test's own, plus a
browser-like client: no Authorization header, cookies only.

Import into a test module: ``from tests.dashboard.dashstack import Dash, dash_fixture  # noqa: F401``.
Every page the browser client receives is kept, so a test can assert a canary secret is in none.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.gateway.apistack import CANARY, Api, make_api
from tests.harness.nats import NatsServer
from zpanel import logstream
from zpanel.bus import Bus
from zpanel.events import (
    BuildDone,
    BuildFailed,
    BuildStarted,
    DeployDone,
    DeploymentSucceeded,
    HealthPassed,
    ProxyUpdated,
)
from zpanel.models import ContainerRef, Status

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def cells(html: str, row_marker: str) -> list[str]:
    """The text of each cell of the table row whose opening tag holds ``row_marker``."""
    row = html.split(row_marker, 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


@dataclass
class Dash:
    api: Api
    browser: httpx.AsyncClient
    pages: list[bytes] = field(default_factory=list)

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        r = await self.browser.get(url, **kw)
        self.pages.append(r.content)
        return r

    async def post(self, url: str, data: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        r = await self.browser.post(url, data=data or {}, **kw)
        self.pages.append(r.content)
        return r

    def csrf(self) -> str:
        return str(self.browser.cookies.get("zpanel_csrf"))

    async def sign_in(self) -> None:
        form = await self.get("/signin")
        token = CSRF_RE.search(form.text)
        assert token is not None
        r = await self.post("/signin", {"csrf": token.group(1), "token": self.api.token, "next": "/"})
        assert (r.status_code, r.headers["location"]) == (303, "/")

    async def app_with_history(self, **fields: Any) -> dict[str, Any]:
        await self.api.add_local()
        return await self.api.create_app(domains=["web.example.com"], **fields)


async def drive_to_success(api: Api, dep_id: str, app_id: str, sha: str, lines: tuple[str, ...] = ()) -> None:
    """What builder, deployer, health and proxy-sync would publish for a deployment that works."""
    ids = {"deployment_id": dep_id, "app_id": app_id, "server_id": "local"}
    image = f"web:{sha[:12]}"
    box = ContainerRef(id=f"c-{sha[:6]}", name=f"web-{sha[:6]}", address="127.0.0.1:4000")
    await api.bus.publish(BuildStarted(**ids, commit=sha))
    for line in lines:
        await logstream.append(api.bus, dep_id, "build", line, "stdout")
    # one at a time, as the stages would: the projection handles a burst concurrently and
    # ignores whatever lands after the terminal event
    for event in (
        BuildDone(**ids, image=image, commit=sha),
        DeployDone(**ids, image=image, containers=[box]),
        HealthPassed(**ids, containers=[box]),
        ProxyUpdated(**ids, domains=["web.example.com"]),
    ):
        await projected(api.bus)
        await api.bus.publish(event)
    await projected(api.bus)
    await api.bus.publish(DeploymentSucceeded(**ids))
    await api.wait_status(dep_id, Status.SUCCEEDED)


async def projected(bus: Bus, timeout: float = 10) -> None:
    """Wait until the projection has handled every pipeline event published so far."""
    for _ in range(int(timeout / 0.02)):
        info = await bus.js.consumer_info("PIPELINE", "projection")
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the projection never caught up with the PIPELINE stream")


async def drive_to_failure(api: Api, dep_id: str, app_id: str, reason: str) -> None:
    ids = {"deployment_id": dep_id, "app_id": app_id, "server_id": "local"}
    await api.bus.publish(BuildStarted(**ids, commit="f" * 40))
    await api.bus.publish(BuildFailed(**ids, reason=reason, log_tail=[]))
    await api.wait_status(dep_id, Status.FAILED)


async def deploy(api: Api, app: str = "web", commit: str | None = None) -> str:
    body = {"commit": commit} if commit else None
    r = await api.request("POST", f"/api/v1/applications/{app}/deploy", json=body)
    assert r.status_code == 202, r.text
    return str(r.json()["deployment_id"])


async def wait_until(check: Any, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


@pytest.fixture(name="dash")
async def dash_fixture(own_nats: NatsServer) -> AsyncIterator[Dash]:
    api, _ = await make_api(own_nats.url)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://gw.test")
    made = Dash(api, browser)
    yield made
    await browser.aclose()
    await api.client.aclose()
    await api.bus.close()
    for page in [*made.pages, *api.bodies]:
        assert CANARY.encode() not in page, f"a secret leaked into a page: {page[:200]!r}"
