"""The real gateway app on a real nats-server of the test's own, for the API tests.

Import the fixture into a test module: ``from tests.gateway.apistack import api_fixture  # noqa: F401``
(it is named ``api``).
Every answer body the client receives is kept, so a test can assert a canary secret is in none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from tests.harness.nats import NatsServer, free_port
from tests.shared.conftest import fast_settings
from zpanel.bus import Bus
from zpanel.models import Server, Status
from zpanel.secrets import Cipher
from zpanel.state import State
from zpanel_webhook_gateway.api.auth import ensure_admin_token
from zpanel_webhook_gateway.api.deps import Limits, ServerChecker
from zpanel_webhook_gateway.app import create_app
from zpanel_webhook_gateway.conductor import Conductor
from zpanel_webhook_gateway.intake import Intake
from zpanel_webhook_gateway.projection import Projection

PUBLIC_URL = "https://deploy.example.test"
CANARY = "canary-Zq81-never-shown"


async def fake_checker(server: Server, cipher: Cipher) -> dict[str, Any]:
    return {
        "ssh": {"ok": True, "detail": f"ssh {server.user}@{server.host}"},
        "docker": {"ok": True, "detail": "fake", "version": "0"},
    }


@dataclass
class Api:
    bus: Bus
    state: State
    conductor: Conductor
    cipher: Cipher
    client: httpx.AsyncClient
    token: str
    bodies: list[bytes] = field(default_factory=list)
    app: Any = None

    async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        response = await self.client.request(method, url, **kw)
        content = response.content
        if (method, url, response.status_code) == ("POST", "/api/v1/applications", 201):
            # the one answer allowed to hold the webhook secret, in that field and nowhere else
            content = json.dumps({k: v for k, v in response.json().items() if k != "webhook_secret"}).encode()
        self.bodies.append(content)
        return response

    async def add_local(self) -> None:
        r = await self.request("POST", "/api/v1/servers", json={"name": "local"})
        assert r.status_code == 201, r.text

    async def create_app(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "web", "repo": "https://github.com/Codertocat/Hello-World.git", "server": "local"} | fields
        r = await self.request("POST", "/api/v1/applications", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def wait_status(self, dep_id: str, status: Status, timeout: float = 10) -> None:
        for _ in range(int(timeout / 0.05)):
            if (await self.state.deployments.get(dep_id)).status is status:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{dep_id} never became {status}")


async def make_api(
    url: str,
    checker: ServerChecker | None = None,
    limits: Limits | None = None,
    intake: bool = True,
    **settings_over: Any,
) -> tuple[Api, Projection]:
    """``intake=False``: webhooks are answered and published but not admitted until the test
    starts ``Intake(api.bus, api.conductor)`` itself."""
    settings = fast_settings(url, public_url=PUBLIC_URL, proxy_http_port=8080, **settings_over)
    bus = await Bus.connect(settings, name="api-test")
    await bus.provision()
    state = State(bus)
    conductor = Conductor(bus, state)
    projection = Projection(bus, conductor)
    await projection.start()
    if intake:
        await Intake(bus, conductor).start()
    cipher = Cipher(Cipher.generate_key())
    token = await ensure_admin_token(bus)
    assert token is not None
    app = create_app(bus, state, conductor, cipher, settings, server_checker=checker or fake_checker, limits=limits)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw", headers={"Authorization": f"Bearer {token}"}
    )
    return Api(bus, state, conductor, cipher, client, token, app=app), projection


@pytest.fixture(name="api")
async def api_fixture(own_nats: NatsServer) -> AsyncIterator[Api]:
    made, _ = await make_api(own_nats.url)
    yield made
    await made.client.aclose()
    await made.bus.close()
    for body in made.bodies:
        assert CANARY.encode() not in body, f"a secret leaked into an answer: {body[:200]!r}"


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The app on a real uvicorn (WebSockets need one), in this event loop; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def admitted(bus: Bus, timeout: float = 10) -> None:
    """Wait until the intake consumer has handled every trigger in the PUSH stream (webhooks are
    admitted there, after their 202)."""
    for _ in range(int(timeout / 0.02)):
        info = await bus.js.consumer_info("PUSH", "intake")
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the intake never caught up with the PUSH stream")


async def count(bus: Bus, stream: str, subject: str) -> int:
    """How many messages ``subject`` holds in ``stream`` (this test owns its nats-server)."""
    info = await bus.js.stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))
