"""Fuzzing the real gateway on a real uvicorn: schemathesis over /openapi.json (no 5xx for any
generated request, valid or not), and hypothesis on /webhooks/* (an unsigned request, whatever its
body and headers, never creates a deployment nor publishes a trigger).

The gateway runs in a thread with its own event loop (its NATS client lives there), so these tests
are plain synchronous functions making real HTTP requests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.gateway.apistack import CANARY, Api, count, make_api
from tests.gateway.helpers import body
from tests.harness import nats as natsh
from tests.harness.nats import free_port

T = TypeVar("T")
EXAMPLES_PER_OPERATION = 10


class Running:
    """The gateway app served by uvicorn in a background thread."""

    def __init__(self, nats_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api: Api | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(nats_url,), daemon=True)
        self._server: uvicorn.Server | None = None
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the gateway did not start in 30 s")

    def _run(self, nats_url: str) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve(nats_url))

    async def _serve(self, nats_url: str) -> None:
        self.api, _ = await make_api(nats_url)
        config = uvicorn.Config(self.api.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        self._server = uvicorn.Server(config)
        task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        self._ready.set()
        await task
        await self.api.client.aclose()
        await self.api.bus.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    @property
    def headers(self) -> dict[str, str]:
        assert self.api is not None
        return {"Authorization": f"Bearer {self.api.token}"}

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(15)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Running]:
    server = natsh.single(tmp_path / "nats")
    running = Running(server.url)
    yield running
    running.stop()
    server.stop()


def test_schemathesis_finds_no_server_error(gateway: Running) -> None:
    with httpx.Client(base_url=gateway.base, headers=gateway.headers) as http:
        assert http.post("/api/v1/servers", json={"name": "local"}).status_code == 201
        made = http.post(
            "/api/v1/applications",
            json={"name": "web", "repo": "https://github.com/a/b.git", "server": "local", "webhook_secret": CANARY},
        )
        assert made.status_code == 201
    schema = schemathesis.openapi.from_url(f"{gateway.base}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                response = case.call(base_url=gateway.base, headers=gateway.headers)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:200]}"
                    )
                assert CANARY not in response.text

            try:
                call()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # e.g. /healthz: nothing to get wrong
    assert failures == []


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80).map(str.strip)
PROVIDER_HEADERS = {
    "github": st.fixed_dictionaries(
        {"X-GitHub-Event": st.sampled_from(["push", "pull_request", "ping"])},
        optional={"X-Hub-Signature-256": HEADER_TEXT, "X-GitHub-Delivery": HEADER_TEXT},
    ),
    "gitlab": st.fixed_dictionaries(
        {"X-Gitlab-Event": st.sampled_from(["Push Hook", "Merge Request Hook"])},
        optional={"X-Gitlab-Token": HEADER_TEXT},
    ),
    "bitbucket": st.fixed_dictionaries(
        {"X-Event-Key": st.sampled_from(["repo:push", "pullrequest:created"])},
        optional={"X-Hub-Signature": HEADER_TEXT},
    ),
    "gitea": st.fixed_dictionaries(
        {"X-Gitea-Event": st.sampled_from(["push", "pull_request"])},
        optional={"X-Gitea-Signature": HEADER_TEXT},
    ),
}
REAL = [("github", "push.json"), ("gitlab", "push.json"), ("bitbucket", "go-scm.push.json"), ("gitea", "push.json")]


def test_unsigned_requests_never_deploy(gateway: Running) -> None:
    """Apps deploy the repositories of the real payloads, so a request that passed verification would
    deploy: random headers (maybe a made-up signature) with random or real bodies never do."""
    assert gateway.api is not None
    with httpx.Client(base_url=gateway.base, headers=gateway.headers) as http:
        http.post("/api/v1/servers", json={"name": "local"})
        repos = {
            "gh": ("https://github.com/Codertocat/Hello-World.git", "master"),
            "gl": ("git@example.com:mike/diaspora.git", "master"),
            "bb": ("git@bitbucket.org:brydzewski/foo.git", "master"),
            "gt": ("ssh://gitea@localhost:2222/gitea/webhooks.git", "develop"),
        }
        for name, (repo, branch) in repos.items():
            r = http.post(
                "/api/v1/applications",
                json={"name": name, "repo": repo, "branch": branch, "server": "local", "webhook_secret": CANARY},
            )
            assert r.status_code == 201

        statuses: set[int] = set()

        @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(
            provider=st.sampled_from(sorted(PROVIDER_HEADERS)),
            data=st.data(),
            raw=st.one_of(st.binary(max_size=2000), st.sampled_from([body(p, f) for p, f in REAL])),
        )
        def send(provider: str, data: st.DataObject, raw: bytes) -> None:
            headers = data.draw(PROVIDER_HEADERS[provider])
            r = http.post(f"/webhooks/{provider}", content=raw, headers=headers)
            statuses.add(r.status_code)
            assert r.status_code in (200, 400, 401), r.text

        send()
        assert 401 in statuses  # real payloads of known repositories did reach the signature check
        assert http.get("/api/v1/deployments").json() == []
    assert gateway.run(count(gateway.api.bus, "PUSH", "push.received")) == 0
    assert gateway.run(count(gateway.api.bus, "PUSH", "pull_request.received")) == 0
