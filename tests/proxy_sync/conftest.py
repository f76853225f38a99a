"""Real proxies and versioned app containers for the proxy-sync tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import containers, proxies
from zpanel.models import ContainerRef

# Every version serves /index.html naming itself, /healthz (unless broken), and /cgi-bin/slow,
# which answers after SLOW seconds: an in-flight request to watch the drain keep alive.
SLOW = 3
SCRIPT = (
    "mkdir -p /www/cgi-bin && echo {version} > /www/index.html && {healthz}"
    "printf '#!/bin/sh\\nsleep {slow}\\nprintf \"Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nslow {version}\\\\n\"\\n' "
    "> /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow && exec httpd -f -p 8080 -h /www"
)


@dataclass(frozen=True)
class Version:
    name: str
    ref: ContainerRef


@pytest.fixture
def traefik_proxy(tmp_path: Path) -> Iterator[proxies.Traefik]:
    with proxies.traefik(tmp_path / "traefik", tls=False) as proxy:
        yield proxy


@pytest.fixture
def caddy_proxy(tmp_path: Path) -> Iterator[proxies.Caddy]:
    with proxies.caddy(tmp_path / "caddy", tls=False) as proxy:
        yield proxy


@pytest.fixture
def versions(busybox_image: str) -> Iterator[Callable[..., Awaitable[Version]]]:
    """``await versions("v3", healthy=True)`` starts a container of that version on a free
    127.0.0.1 port; ``healthy=False`` leaves out /healthz. All are removed after the test."""
    tag = uuid.uuid4().hex[:8]

    async def start(version: str, healthy: bool = True) -> Version:
        name = f"zp-ps-{tag}-{version}"
        script = SCRIPT.format(version=version, slow=SLOW, healthz="echo ok > /www/healthz && " if healthy else "")
        # In a thread: the proxy-sync code under test runs on this event loop meanwhile.
        started = await asyncio.to_thread(
            pool.start,
            busybox_image,
            name=name,
            labels={"zpanel.test": "proxy-sync"},
            command=["sh", "-c", script],
            port=8080,
        )
        return Version(version, ContainerRef(id=started.id, name=name, address=f"127.0.0.1:{started.port}"))

    with containers.Pool() as pool:
        yield start
