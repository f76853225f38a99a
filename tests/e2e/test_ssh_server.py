"""A deployment to a server reached over SSH (a real sshd on 127.0.0.1, its own Traefik): the
image is delivered, containers start there, probes leave from there through the SSH connection,
and its proxy's routes are written over SSH and verified from outside."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.builder.helpers import make_repo
from tests.e2e.pipeline import app_named, platform, remove_app_containers
from tests.harness import proxies
from tests.harness.nats import NatsServer
from tests.harness.sshd import Sshd
from zpanel.models import HealthSettings, Server, Status

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.docker, pytest.mark.ssh]


async def test_push_to_live_on_an_ssh_server(
    own_nats: NatsServer, tmp_path: Path, busybox_image: str, sshd: Sshd
) -> None:
    repo = tmp_path / "repo"
    commit = make_repo(
        repo, {"Dockerfile": "FROM zpanel-test/busybox:1\nCOPY www /www\n", "www/index.html": "hello over ssh\n"}
    )
    app = app_named("ssh", repo, server="remote", health=HealthSettings(start_period=5, interval=0.1))
    try:
        with proxies.traefik(tmp_path / "remote-traefik", tls=False) as proxy:  # the remote server's proxy
            async with platform(own_nats.url, tmp_path / "home", proxy, servers=("local", "remote")) as zp:
                await zp.state.servers.put(
                    "remote",
                    Server(
                        name="remote",
                        kind="ssh",
                        host=sshd.host,
                        port=sshd.port,
                        user=sshd.user,
                        private_key=zp.cipher.seal(sshd.client_key),
                        known_hosts=sshd.host_key_line,
                        proxy_http_port=proxy.web_port,
                        proxy_dir=str(proxy.dynamic_dir),
                    ),
                )
                await zp.state.create_app(app)
                dep = await zp.deploy(app, commit)
                assert dep.status is Status.SUCCEEDED, dep.error
                async with httpx.AsyncClient(base_url=proxy.url, timeout=5) as web:
                    r = await web.get("/", headers={"Host": app.domains[0]})
                assert r.text == "hello over ssh\n" and r.headers["X-Zpanel-Deployment"] == dep.id
                compose = Path(f"/var/lib/zpanel/apps/{app.name}/{dep.id}/compose.yaml")
                assert compose.is_file()  # written on the server, for an operator to see and reproduce
                running = subprocess.run(
                    ["docker", "ps", "-q", "--filter", f"label=zpanel.deployment={dep.id}"],
                    capture_output=True,
                    text=True,
                ).stdout.split()
                assert len(running) == 1
    finally:
        remove_app_containers(app.id)
        subprocess.run(["rm", "-rf", f"/var/lib/zpanel/apps/{app.name}"], check=False)
