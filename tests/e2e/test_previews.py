"""A pull request's preview runs beside production under its own domain, and a closed pull request
takes it away — containers and route — leaving production untouched."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.builder.helpers import git, make_repo
from tests.e2e.pipeline import app_named, platform, remove_app_containers
from tests.harness import proxies
from tests.harness.nats import NatsServer
from zpanel.models import HealthSettings, Status, preview_app

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.docker]


def site(text: str) -> dict[str, str]:
    return {"Dockerfile": "FROM zpanel-test/busybox:1\nCOPY www /www\n", "www/index.html": text}


def containers_of(app_id: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=zpanel.app={app_id}"], capture_output=True, text=True
    )
    return out.stdout.split()


async def test_preview_beside_production_then_torn_down(
    own_nats: NatsServer, tmp_path: Path, busybox_image: str
) -> None:
    repo = tmp_path / "repo"
    main = make_repo(repo, site("production\n"))
    git(repo, "checkout", "-q", "-b", "feature")
    feature = make_repo(repo, site("pull request 7\n"), "feature work")
    app = app_named("pv", repo, previews=True, health=HealthSettings(start_period=3, interval=0.1))
    preview = preview_app(app, 7)
    try:
        with proxies.traefik(tmp_path / "traefik", tls=False) as proxy:
            async with platform(own_nats.url, tmp_path / "home", proxy) as zp:
                await zp.state.create_app(app)
                prod = await zp.deploy(app, main)
                assert prod.status is Status.SUCCEEDED, prod.error
                pr = await zp.conductor.request(app, "preview", commit=feature, preview=7)
                pr = await zp.wait(pr.id)
                assert pr.status is Status.SUCCEEDED, pr.error
                assert pr.app_id == preview.id
                async with httpx.AsyncClient(base_url=proxy.url, timeout=5) as web:
                    assert (await web.get("/", headers={"Host": f"pr-7.{app.domains[0]}"})).text == "pull request 7\n"
                    assert (await web.get("/", headers={"Host": app.domains[0]})).text == "production\n"
                    await zp.conductor.tear_down_preview(app, 7)
                    for _ in range(200):
                        if not containers_of(preview.id):
                            break
                        await asyncio.sleep(0.05)
                    assert containers_of(preview.id) == []
                    for _ in range(200):
                        gone = await web.get("/", headers={"Host": f"pr-7.{app.domains[0]}"})
                        if gone.status_code == 404:
                            break
                        await asyncio.sleep(0.05)
                    assert gone.status_code == 404
                    assert (await web.get("/", headers={"Host": app.domains[0]})).text == "production\n"
                assert len(containers_of(app.id)) == 1
    finally:
        remove_app_containers(app.id)
        remove_app_containers(preview.id)
