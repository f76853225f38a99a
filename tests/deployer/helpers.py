"""Small builders shared by the deployer tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from zpanel.models import Application, ContainerRef

DEP = "dddddddddddd0000"  # new deployment id; names use its first 12 chars


def app(**kw: Any) -> Application:
    fields: dict[str, Any] = {"id": "a1", "name": "web", "repo": "file:///r", "server": "local", "port": 8080}
    fields.update(kw)
    return Application(**fields)


def old(n: int, dep: str = "oooooooooooo") -> list[ContainerRef]:
    return [
        ContainerRef(id=f"id{r}", name=f"web-{dep}-{r}", address=f"127.0.0.1:{5000 + r}", replica=r) for r in range(n)
    ]


def new(r: int) -> str:
    return f"web-{DEP[:12]}-{r}"


class HttpHooks:
    """The health and proxy stages as a test stands in for them: a real HTTP probe of each
    container's address (bounded), and a record of every switch."""

    def __init__(self, deadline: float = 10.0) -> None:
        self.deadline = deadline
        self.switches: list[list[str]] = []
        self.healthy: list[list[str]] = []

    async def wait_healthy(self, containers: list[ContainerRef]) -> None:
        async with httpx.AsyncClient(timeout=1.0) as client:
            for c in containers:
                await _until_200(client, c.address, self.deadline)
        self.healthy.append([c.name for c in containers])

    async def switch(self, containers: list[ContainerRef]) -> None:
        self.switches.append([c.name for c in containers])


async def _until_200(client: httpx.AsyncClient, address: str, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    last = "no answer"
    while loop.time() < end:
        try:
            response = await client.get(f"http://{address}/")
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{address} is not healthy: {last}")


def get(address: str) -> str:
    return httpx.get(f"http://{address}/", timeout=5).text
