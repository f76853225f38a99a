"""Push → live through the whole pipeline (real NATS, git, BuildKit, Docker, Traefik or Caddy),
then a version whose health check fails: rolled back, the previous version still serving."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.builder.helpers import make_repo
from tests.e2e.pipeline import app_named, platform, remove_app_containers
from tests.harness import proxies
from tests.harness.nats import NatsServer
from zpanel import logstream
from zpanel.models import HealthSettings, Status

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.docker]


def dockerfile(version: str, port: int = 8080) -> dict[str, str]:
    return {
        "Dockerfile": f'FROM zpanel-test/busybox:1\nCOPY www /www\nCMD ["httpd", "-f", "-p", "{port}", "-h", "/www"]\n',
        "www/index.html": f"hello from {version}\n",
    }


@pytest.mark.parametrize("kind", ["traefik", "caddy"])
async def test_push_to_live_then_a_failing_version_is_rolled_back(
    kind: str, own_nats: NatsServer, tmp_path: Path, busybox_image: str
) -> None:
    repo = tmp_path / "repo"
    v1 = make_repo(repo, dockerfile("v1"))
    starter = proxies.traefik if kind == "traefik" else proxies.caddy
    app = app_named("e2e", repo, health=HealthSettings(start_period=3, retries=2, interval=0.1, timeout=1))
    try:
        with starter(tmp_path / kind, tls=False) as proxy:
            async with platform(own_nats.url, tmp_path / "home", proxy) as zp:
                await zp.state.create_app(app)
                first = await zp.deploy(app, v1)
                assert first.status is Status.SUCCEEDED, first.error
                assert [s.name for s in first.stages] == ["queue", "build", "deploy", "health", "route", "finish"]
                async with httpx.AsyncClient(base_url=proxy.url, timeout=5) as web:
                    r = await web.get("/", headers={"Host": app.domains[0]})
                    assert r.text == "hello from v1\n"
                    assert r.headers["X-Zpanel-Deployment"] == first.id

                    v2 = make_repo(repo, dockerfile("v2", port=9999), "listen on the wrong port")
                    second = await zp.deploy(app, v2)
                    assert second.status is Status.ROLLED_BACK
                    assert second.error and second.error.startswith(f"{app.name}-")
                    r = await web.get("/", headers={"Host": app.domains[0]})
                    assert r.text == "hello from v1\n" and r.headers["X-Zpanel-Deployment"] == first.id
                lines = [x.line for x in await logstream.history(zp.bus, second.id)]
                assert lines[-1].startswith("deployment rolled_back: ")
                left = subprocess.run(
                    ["docker", "ps", "-aq", "--filter", f"label=zpanel.deployment={second.id}"],
                    capture_output=True,
                    text=True,
                ).stdout
                assert left.strip() == ""
    finally:
        remove_app_containers(app.id)
