"""Push → live through the whole pipeline (real NATS, git, BuildKit, Docker, Traefik or Caddy),
then a version whose health check fails: rolled back, the previous version still serving. A
rolling update of two replicas under steady load, then one whose second replica fails: routed back
to the old replicas before the new ones go, and no request fails in either."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.builder.helpers import make_repo
from tests.e2e.apps import site, start_script
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


def second_replica_fails(version: str) -> dict[str, str]:
    """The first container of this version to start marks the app's shared volume and serves; the
    next one (a rolling update's second replica) finds the mark and listens on the wrong port."""
    before = "if [ -e /data/started ]; then PORT=9999; else touch /data/started; PORT=8080; fi\n"
    script = start_script(before=before).replace("-p 8080", '-p "$PORT"')
    return site(version) | {"start.sh": script}


@contextlib.asynccontextmanager
async def steady_load(url: str, host: str, workers: int = 3) -> AsyncIterator[Counter[str]]:
    """GET / through the proxy without pause; the counter holds each answer's deployment (or
    ``failed: …``) when the block ends."""
    seen: Counter[str] = Counter()
    stop = asyncio.Event()

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=5) as web:
            while not stop.is_set():
                try:
                    r = await web.get("/", headers={"Host": host})
                    seen[
                        r.headers.get("X-Zpanel-Deployment", "?")
                        if r.status_code == 200
                        else f"failed: {r.status_code}"
                    ] += 1
                except httpx.HTTPError as exc:
                    seen[f"failed: {type(exc).__name__}"] += 1

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        yield seen
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_rolling_update_under_load_then_a_failing_second_replica_routes_back(
    own_nats: NatsServer, tmp_path: Path, busybox_image: str
) -> None:
    repo = tmp_path / "repo"
    health = HealthSettings(start_period=3, retries=2, interval=0.1, timeout=1)
    app = app_named(
        "roll", repo, strategy="rolling", replicas=2, volumes=["data:/data"], drain_timeout=5, health=health
    )
    host = app.domains[0]
    try:
        with proxies.traefik(tmp_path / "traefik", tls=False) as proxy:
            async with platform(own_nats.url, tmp_path / "home", proxy) as zp:
                await zp.state.create_app(app)
                first = await zp.deploy(app, make_repo(repo, site("v1")))
                assert first.status is Status.SUCCEEDED, first.error
                assert len(running(first.id)) == 2

                async with steady_load(proxy.url, host) as answers:
                    second = await zp.deploy(app, make_repo(repo, site("v2"), "v2"))
                    await asyncio.sleep(0.3)  # the new version answers for a moment
                assert second.status is Status.SUCCEEDED, second.error
                assert not [k for k in answers if k.startswith("failed")], answers
                assert answers[first.id] > 0 and answers[second.id] > 0
                lines = [x.line for x in await logstream.history(zp.bus, second.id)]
                assert any("replica 1 of 2 started" in line for line in lines), lines
                assert any("replica 2 of 2 started" in line for line in lines), lines
                assert running(first.id) == [] and len(running(second.id)) == 2
                assert [c.name for c in second.containers] == [f"{app.name}-{second.id[:12]}-{r}" for r in (0, 1)]

                async with steady_load(proxy.url, host) as answers:
                    third = await zp.deploy(app, make_repo(repo, second_replica_fails("v3"), "v3"))
                    await asyncio.sleep(0.3)
                assert third.status is Status.ROLLED_BACK, third.error
                assert third.error and f"{app.name}-{third.id[:12]}-1 failed its health check" in third.error
                # traffic reached v3's first replica, and came back to v2; none was lost on the way
                assert not [k for k in answers if k.startswith("failed")], answers
                assert answers[third.id] > 0 and answers[second.id] > 0
                lines = [x.line for x in await logstream.history(zp.bus, third.id)]
                assert any("routing back to the previous version" in line for line in lines), lines
                assert lines[-1].startswith("deployment rolled_back: ")
                async with httpx.AsyncClient(base_url=proxy.url, timeout=5) as web:
                    r = await web.get("/", headers={"Host": host})
                assert (r.text, r.headers["X-Zpanel-Deployment"]) == ("hello from v2\n", second.id)
                assert len(running(second.id)) == 2  # its replica 0, stopped for v3's, runs again
                assert running(third.id, everything=True) == []
    finally:
        remove_app_containers(app.id)
        subprocess.run(["docker", "volume", "rm", "-f", f"zpanel-{app.id}-data"], capture_output=True)


def running(deployment_id: str, everything: bool = False) -> list[str]:
    argv = ["docker", "ps", "-q", "--filter", f"label=zpanel.deployment={deployment_id}"]
    return subprocess.run(argv + (["-a"] if everything else []), capture_output=True, text=True).stdout.split()
