"""The CLI against the real gateway (``python -m zpanel_webhook_gateway`` on a real nats-server):
the --json shapes and error lines as users will meet them. Deployments that run to the end need
every service: tests/e2e covers those."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Result, run_cli
from tests.cli.dummies import until
from tests.harness import procs
from tests.harness.nats import NatsServer, free_port

TOKEN = "zp_cli-test-admin-token"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, nats_server: NatsServer) -> Iterator[str]:
    home = tmp_path_factory.mktemp("gw-home")
    port = free_port()
    env = {
        "ZPANEL_HOME": str(home),
        "ZPANEL_NATS_URL": nats_server.url,
        "ZPANEL_HTTP_PORT": str(port),
        "ZPANEL_ADMIN_TOKEN": TOKEN,
        "ZPANEL_PUBLIC_URL": "https://zpanel.example",
    }
    proc = procs.spawn(["-m", "zpanel_webhook_gateway"], env, home / "gateway.log")
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.poll() is None, (home / "gateway.log").read_text()[-2000:]
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    until("the gateway", healthy, timeout=60)
    yield url
    procs.terminate(proc, timeout=5)


@pytest.fixture
def zp(gateway: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ZPANEL_HOME", str(tmp_path))
    monkeypatch.setenv("ZPANEL_API_URL", gateway)
    monkeypatch.setenv("ZPANEL_TOKEN", TOKEN)

    def run(*args: str) -> Result:
        return run_cli(*args)

    return run


def test_server_add_then_app_create_show_list_shapes(zp, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    name, srv = f"cli-{suffix}", f"srv-{suffix}"
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    host_pub = (tmp_path / "id_ed25519.pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"[10.9.8.7]:2222 {host_pub[0]} {host_pub[1]}\n")
    added = zp("server", "add", srv, "--host", "10.9.8.7", "--port", "2222", "--key", str(key), "--known-hosts", str(known), "--json")  # fmt: skip
    assert added.code == 0, added.stderr
    assert "PRIVATE KEY" not in added.stdout
    assert {k: added.json()[k] for k in ("name", "kind", "host", "port", "user", "proxy")} == {
        "name": srv, "kind": "ssh", "host": "10.9.8.7", "port": 2222, "user": "root", "proxy": "traefik",
    }  # fmt: skip
    assert srv in [s["name"] for s in zp("server", "list", "--json").json()]
    created = zp("app", "create", name, "--repo", "https://git.example/x.git", "--server", srv, "--domain", f"{name}.localhost", "--webhook-secret", "s3cret-value", "--json")  # fmt: skip
    assert created.code == 0, created.stderr
    doc = created.json()
    urls = {p: f"https://zpanel.example/webhooks/{p}" for p in ("github", "gitlab", "bitbucket", "gitea")}
    assert doc == {
        "id": doc["id"],
        "name": name,
        "repo": "https://git.example/x.git",
        "branch": "main",
        "server": srv,
        "domains": [f"{name}.localhost"],
        "webhook_urls": urls,
        "webhook_secret": "s3cret-value",
    }
    shown = zp("app", "show", name, "--json")
    assert (shown.code, shown.json()) == (0, {k: v for k, v in doc.items() if k != "webhook_secret"})
    assert name in [a["name"] for a in zp("app", "list", "--json").json()]
    again = zp("app", "create", name, "--repo", "r", "--server", srv)
    assert again.code == 1 and again.stderr.startswith("zpanel: ") and again.stderr.count("\n") == 1

    secret = zp("env", "set", name, "API_KEY=canary-5f1d", "--secret", "--json")
    assert (secret.code, secret.json()) == (
        0,
        [{"key": "API_KEY", "value": "********", "secret": True, "build_time": False}],
    )
    listed = zp("env", "list", name, "--json")
    assert "canary-5f1d" not in listed.stdout
    assert zp("deployments", name, "--json").json() == []
    assert zp("app", "delete", name).code == 0
    assert zp("server", "remove", srv).code == 0


def test_unknown_things_and_bad_tokens_are_one_line(zp, monkeypatch: pytest.MonkeyPatch, gateway: str) -> None:
    for args in (("app", "show", "no-such-app"), ("logs", "no-such-deployment"), ("cancel", "no-such-deployment")):
        r = zp(*args)
        assert (r.code, r.stdout, r.stderr.count("\n")) == (1, "", 1), (args, r.stderr)
        assert r.stderr.startswith("zpanel: ")
    monkeypatch.setenv("ZPANEL_TOKEN", "zp_wrong")
    r = zp("app", "list")
    assert r.code == 1
    assert r.stderr.startswith(f"zpanel: the API at {gateway} refused the token: set ZPANEL_TOKEN or check ")


def test_dlq_list_is_a_list(zp) -> None:
    r = zp("dlq", "list", "--json")
    assert r.code == 0 and isinstance(json.loads(r.stdout), list)
