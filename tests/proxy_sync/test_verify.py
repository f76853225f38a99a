"""Verification on a fake clock: which answers count as "the new deployment", and the time bound."""

from __future__ import annotations

import httpx
import pytest

from tests.harness.clock import FakeClock
from zpanel_proxy_sync.errors import VerifyFailed
from zpanel_proxy_sync.verify import Verified, httpx_fetch, verify


def fetcher(answers):
    """``answers``: per host, the list of answers to give in turn (the last one repeats)."""
    seen: list[str] = []

    async def fetch(host):
        seen.append(host)
        queue = answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return fetch, seen


async def test_passes_once_every_host_reaches_the_new_deployment():
    clock = FakeClock()
    fetch, seen = fetcher(
        {
            "a.test": [(200, "old"), (502, "new"), httpx.ConnectError("refused"), (200, "new")],
            "b.test": [(404, "new")],
        }
    )
    result = await verify(fetch, ("a.test", "b.test"), "new", within=1, interval=0.25, clock=clock, sleep=clock.sleep)
    assert result == Verified(attempts=5, elapsed=0.75)
    assert seen == ["a.test"] * 4 + ["b.test"]


async def test_fails_after_the_time_bound_naming_the_last_answer():
    clock = FakeClock()
    fetch, _ = fetcher({"a.test": [(200, "old")]})
    with pytest.raises(VerifyFailed) as info:
        await verify(fetch, ("a.test",), "new", within=1, interval=0.25, clock=clock, sleep=clock.sleep)
    assert str(info.value) == (
        "requests for a.test through the proxy did not reach deployment new within 1s (last: 200 from deployment old)"
    )


async def test_connection_errors_are_reported():
    clock = FakeClock()
    fetch, _ = fetcher({"a.test": [OSError("connection refused")]})
    with pytest.raises(VerifyFailed) as info:
        await verify(fetch, ("a.test",), "new", within=0.5, interval=0.25, clock=clock, sleep=clock.sleep)
    assert str(info.value).endswith("(last: no answer (OSError: connection refused))")


async def test_httpx_fetch_sends_the_host_header():
    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-Zpanel-Deployment": request.headers["host"] + request.url.path})

    async with httpx.AsyncClient(transport=httpx.MockTransport(app)) as client:
        fetch = httpx_fetch("http://127.0.0.1:1", path="/healthz", client=client)
        assert await fetch("shop.test") == (200, "shop.test/healthz")
