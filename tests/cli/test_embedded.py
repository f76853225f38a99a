"""The embedded stack's plan by exact value, and its NATS and Traefik/Caddy configurations run
for real under the supervisor (the six services are exercised by tests/e2e)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.cli.dummies import stack, until
from tests.harness.nats import free_port
from zpanel.cli import embedded, lifecycle
from zpanel.cli.errors import CliError
from zpanel.cli.plan import Probe

BIN = Path(sys.executable).parent


def env(**ports: int) -> dict[str, str]:
    return {f"ZPANEL_{k.upper()}": str(v) for k, v in ports.items()}


def test_plan_of_the_default_stack(tmp_path: Path) -> None:
    p = embedded.build_plan(tmp_path, token="zpt_x", environ={}, base_image_static="zpanel/busybox:local")
    assert [s.name for s in p.procs] == [
        "nats", "webhook-gateway", "builder", "deployer", "health", "proxy-sync", "notifier", "traefik",
    ]  # fmt: skip
    nats, gateway, builder = p.procs[0], p.procs[1], p.procs[2]
    assert (nats.argv, nats.probes, nats.gate) == (
        [str(BIN / "nats-server"), "-c", str(tmp_path / "nats" / "nats.conf")],
        [Probe("tcp", "4222")],
        True,
    )
    assert (tmp_path / "nats" / "nats.conf").read_text() == (
        f'server_name: "zpanel"\nlisten: 127.0.0.1:4222\njetstream {{ store_dir: "{tmp_path / "nats" / "js"}" }}\n'
    )
    assert gateway.argv == [sys.executable, "-m", "zpanel_webhook_gateway"]
    assert gateway.probes == [
        Probe("ping", "zpanel.ping.webhook-gateway"),
        Probe("http", "http://127.0.0.1:8000/healthz"),
    ]
    assert builder.probes == [Probe("ping", "zpanel.ping.builder")]
    assert builder.env == {
        "ZPANEL_HOME": str(tmp_path),
        "ZPANEL_NATS_URL": "nats://127.0.0.1:4222",
        "ZPANEL_HTTP_PORT": "8000",
        "ZPANEL_PROXY_HTTP_PORT": "80",
        "ZPANEL_PROXY_HTTPS_PORT": "443",
        "ZPANEL_PROXY_KIND": "traefik",
        "ZPANEL_PROXY_DIR": str(tmp_path / "proxy" / "dynamic"),
        "ZPANEL_BASE_IMAGE_STATIC": "zpanel/busybox:local",
    }
    assert p.procs[-1].argv == [str(BIN / "traefik"), f"--configFile={tmp_path / 'proxy' / 'traefik.yml'}"]
    static = yaml.safe_load((tmp_path / "proxy" / "traefik.yml").read_text())
    assert static["providers"] == {
        "providersThrottleDuration": "50ms",
        "file": {"directory": str(tmp_path / "proxy" / "dynamic"), "watch": True},
    }
    assert static["entryPoints"] == {"web": {"address": ":80"}, "websecure": {"address": ":443"}}
    assert "certificatesResolvers" not in static  # HTTPS with the default certificate until ZPANEL_ACME_EMAIL
    assert (p.info.api_url, p.info.dashboard_url, p.info.nats_url, p.info.proxy_http_port, p.info.token) == (
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8000/",
        "nats://127.0.0.1:4222",
        80,
        "zpt_x",
    )


ACME = {"ZPANEL_ACME_EMAIL": "ops@example.org", "ZPANEL_ACME_CA": "https://ca.example.org/directory"}


def test_with_an_acme_email_traefik_gets_the_letsencrypt_resolver_and_proxy_sync_names_it(tmp_path: Path) -> None:
    p = embedded.build_plan(tmp_path, token="t", environ=ACME)
    static = yaml.safe_load((tmp_path / "proxy" / "traefik.yml").read_text())
    assert static["certificatesResolvers"] == {
        "letsencrypt": {
            "acme": {
                "email": "ops@example.org",
                "storage": str(tmp_path / "proxy" / "acme.json"),
                "httpChallenge": {"entryPoint": "web"},
                "caServer": "https://ca.example.org/directory",
            }
        }
    }
    proxy_sync = next(s for s in p.procs if s.name == "proxy-sync")
    assert {k: proxy_sync.env[k] for k in ACME} == ACME


def test_with_an_acme_email_caddy_gets_the_acme_issuer(tmp_path: Path) -> None:
    embedded.build_plan(tmp_path, token="t", proxy="caddy", environ={"ZPANEL_ACME_EMAIL": "ops@example.org"})
    config = json.loads((tmp_path / "proxy" / "caddy.json").read_text())
    assert config["apps"]["tls"]["automation"]["policies"][1] == {
        "issuers": [{"module": "acme", "email": "ops@example.org"}]
    }
    embedded.build_plan(tmp_path, token="t", proxy="caddy", environ={"ZPANEL_ACME_EMAIL": ""})
    config = json.loads((tmp_path / "proxy" / "caddy.json").read_text())
    assert config["apps"]["tls"]["automation"]["policies"][1] == {"issuers": [{"module": "internal"}]}


def test_a_bad_acme_setting_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CliError) as exc:
        embedded.build_plan(tmp_path, token="t", environ={"ZPANEL_ACME_EMAIL": "ops"})
    assert str(exc.value) == "ZPANEL_ACME_EMAIL: 'ops' is not an e-mail address"


def test_an_external_nats_replaces_the_embedded_one(tmp_path: Path) -> None:
    p = embedded.build_plan(tmp_path, token="t", environ={"ZPANEL_NATS_URL": "nats://n1:4222,nats://n2:4222"})
    assert "nats" not in [s.name for s in p.procs]
    assert p.procs[0].env["ZPANEL_NATS_URL"] == p.info.nats_url == "nats://n1:4222,nats://n2:4222"


def test_a_bad_port_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CliError) as exc:
        embedded.build_plan(tmp_path, token="t", environ={"ZPANEL_HTTP_PORT": "eighty"})
    assert str(exc.value) == "ZPANEL_HTTP_PORT: expected a port number, got 'eighty'"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    h = tmp_path / "zhome"
    yield h
    lifecycle.down(h)


@pytest.mark.parametrize("proxy", ["traefik", "caddy"])
def test_nats_and_the_proxy_start_for_real(home: Path, proxy: str) -> None:
    ports = {"nats_port": free_port(), "proxy_http_port": free_port(), "proxy_https_port": free_port()}
    environ = {**env(**ports), "ZPANEL_PROXY_BIND": "127.0.0.1", "ZPANEL_CADDY_ADMIN_PORT": str(free_port())}
    p = embedded.build_plan(home, token="t", proxy=proxy, environ=environ)
    p.procs = [s for s in p.procs if s.name in ("nats", proxy)]  # the services have their own tests
    doc = lifecycle.wait_ready(p, lifecycle.start_detached(p), timeout=30)
    assert [(s["name"], s["state"]) for s in doc["services"]] == [("nats", "running"), (proxy, "running")]
    # No route yet: Traefik answers 404 for an unknown host, Caddy an empty 200.
    answer = httpx.get(f"http://127.0.0.1:{ports['proxy_http_port']}/", headers={"Host": "nobody.localhost"})
    assert answer.status_code == {"traefik": 404, "caddy": 200}[proxy]
    if proxy == "caddy":  # proxy-sync drives Caddy through this admin API
        config = httpx.get(f"http://127.0.0.1:{environ['ZPANEL_CADDY_ADMIN_PORT']}/config/").json()
        assert config["apps"]["http"]["servers"]["zp-http"]["listen"] == [f"127.0.0.1:{ports['proxy_http_port']}"]
    assert (home / "nats" / "js" / "jetstream").is_dir()
    pids = [s["pid"] for s in stack(home)["services"]]
    assert lifecycle.down(home) == ["nats", proxy, "supervisor"]
    until("the processes to be gone", lambda: all(not Path(f"/proc/{pid}").exists() for pid in pids))
