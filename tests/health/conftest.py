"""Real busybox containers for the health checks, published on 127.0.0.1 and removed after."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import containers, images
from zpanel.models import HealthSettings
from zpanel_health.checks.base import Probe
from zpanel_health.probe import Passed, run_probe

NO_CLIENT_IMAGE = "zpanel-test/no-http-client:1"

HOST_CGI = '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\nhost=%%s\\n" "$HTTP_HOST"\n'


@dataclass(frozen=True)
class Started:
    id: str
    name: str
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def hostport(self) -> tuple[str, int]:
        return "127.0.0.1", self.port


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.fixture(name="run")
def run_fixture() -> Callable[[list[str]], subprocess.CompletedProcess[str]]:
    return run


@pytest.fixture
def until_passed() -> Callable[..., Awaitable[Passed]]:
    """Run the real probe loop on the real clock until ``probe`` passes (10 s at most)."""

    async def wait(probe: Probe, settings: HealthSettings | None = None) -> Passed:
        result = await run_probe(probe, settings or HealthSettings(start_period=10, retries=1), time.monotonic)
        assert isinstance(result, Passed), result
        return result

    return wait


@pytest.fixture(scope="session")
def no_client_image(busybox_image: str) -> str:
    """An image holding one static binary that serves HTTP: no curl, no wget, no shell. (It is
    busybox renamed, started as httpd; nothing else is on PATH.)"""
    if images.image_exists(NO_CLIENT_IMAGE):
        return NO_CLIENT_IMAGE
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "www").mkdir()
        (root / "www" / "index.html").write_text("no client here\n")
        shutil.copy2(images.BUSYBOX, root / "httpd")
        images.import_root(root, NO_CLIENT_IMAGE, 'CMD ["/httpd", "-f", "-p", "8080", "-h", "/www"]')
    return NO_CLIENT_IMAGE


# The ``docker run`` flags tests pass as ``extra``, as the docker SDK's arguments.
SDK_OPTIONS: dict[str, Callable[[str], tuple[str, object]]] = {
    "--restart": lambda policy: ("restart_policy", {"Name": policy}),
    "--memory": lambda size: ("mem_limit", size),
    "--memory-swap": lambda size: ("memswap_limit", size),
}


@pytest.fixture
def container(busybox_image: str) -> Iterator[Callable[..., Started]]:
    """``container(cmd=..., image=..., extra=[...], cgi_host=False)`` starts one and waits for
    nothing: the checks under test are what tell when it is ready."""

    def start(
        cmd: list[str] | None = None, image: str | None = None, extra: list[str] | None = None, cgi_host: bool = False
    ) -> Started:
        if cgi_host:
            cmd = [
                "sh",
                "-c",
                f"mkdir -p /www/cgi-bin && printf '{HOST_CGI}' > /www/cgi-bin/host && "
                "chmod +x /www/cgi-bin/host && exec httpd -f -p 8080 -h /www",
            ]
        flags = extra or []
        options = dict(SDK_OPTIONS[flag](value) for flag, value in zip(flags[::2], flags[1::2], strict=True))
        name = f"zp-health-{uuid.uuid4().hex[:10]}"
        started = pool.start(
            image or busybox_image, name=name, labels={"zpanel.test": "health"}, command=cmd, port=8080, **options
        )
        return Started(started.id, name, started.port)  # port 0: it exited already

    with containers.Pool() as pool:
        yield start
