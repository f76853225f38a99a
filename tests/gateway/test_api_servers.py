"""Servers over HTTP: local needs nothing, SSH servers need a key (sealed, never shown) and a
pinned host key; check goes through the server checker given to create_app."""

from __future__ import annotations

from typing import Any

import docker
import pytest

from tests.gateway.apistack import CANARY, Api, api_fixture, make_api  # noqa: F401
from tests.harness.nats import NatsServer
from zpanel_webhook_gateway.api.servercheck import NOT_WIRED, default_server_checker

KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n-----END OPENSSH PRIVATE KEY-----\n"
KNOWN = "[10.0.0.5]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTests"


def ssh_body(**over: Any) -> dict[str, Any]:
    return {
        "name": "far",
        "host": "10.0.0.5",
        "port": 2222,
        "user": "deploy",
        "private_key": KEY,
        "known_hosts": KNOWN,
    } | over


def expected(created_at: str, **over: Any) -> dict[str, Any]:
    base = {
        "id": "far",
        "name": "far",
        "kind": "ssh",
        "host": "10.0.0.5",
        "port": 2222,
        "user": "deploy",
        "proxy": "traefik",
        "known_hosts": KNOWN,
        "has_private_key": True,
        "max_concurrency": 2,
        "created_at": created_at,
    }
    return base | over


async def test_add_list_show_delete(api: Api) -> None:
    r = await api.request("POST", "/api/v1/servers", json=ssh_body())
    assert r.status_code == 201
    far = r.json()
    assert far == expected(far["created_at"])
    record = await api.state.servers.get("far")
    assert CANARY not in record.model_dump_json()
    assert api.cipher.open(record.private_key) == KEY

    r = await api.request("POST", "/api/v1/servers", json={"name": "local"})
    local = r.json()
    assert local == expected(
        local["created_at"],
        id="local",
        name="local",
        kind="local",
        host="127.0.0.1",
        port=22,
        user="root",
        known_hosts="",
        has_private_key=False,
    )
    assert (await api.request("GET", "/api/v1/servers")).json() == [far, local]
    assert (await api.request("GET", "/api/v1/servers/far")).json() == far
    assert (await api.request("DELETE", "/api/v1/servers/far")).status_code == 204
    r = await api.request("GET", "/api/v1/servers/far")
    assert (r.status_code, r.json()) == (
        404,
        {"error": {"code": "not_found", "message": "no server 'far': `zpanel server list` shows them"}},
    )


async def test_add_errors(api: Api) -> None:
    await api.request("POST", "/api/v1/servers", json=ssh_body())
    r = await api.request("POST", "/api/v1/servers", json=ssh_body())
    assert (r.status_code, r.json()["error"]) == (
        409,
        {"code": "conflict", "message": "a server named 'far' exists already: delete it first to replace it"},
    )
    r = await api.request("POST", "/api/v1/servers", json=ssh_body(name="f2", known_hosts=None))
    assert (r.status_code, r.json()["error"]) == (
        422,
        {
            "code": "invalid",
            "message": "known_hosts: the server's host key must be pinned; "
            "`zpanel server add` fetches it and asks you to confirm",
        },
    )
    r = await api.request("POST", "/api/v1/servers", json=ssh_body(name="f3", private_key="not a key"))
    assert r.json()["error"]["message"] == "private_key: give the PEM text of the SSH private key (`--key FILE`)"
    r = await api.request("POST", "/api/v1/servers", json=ssh_body(name="f4", known_hosts="garbage"))
    assert r.json()["error"]["message"].startswith("known_hosts must hold OpenSSH known_hosts lines")
    r = await api.request("POST", "/api/v1/servers", json=ssh_body(name="f5", host=None))
    assert r.json()["error"]["message"] == "host: an SSH server needs --host (a name or an IP address)"
    r = await api.request("POST", "/api/v1/servers", json=ssh_body(name="f6", host="-oProxyCommand=x"))
    assert r.json()["error"]["message"] == "host: give a host name or an IP address"
    assert [s["name"] for s in (await api.request("GET", "/api/v1/servers")).json()] == ["far"]


async def test_a_server_in_use_cannot_be_deleted(api: Api) -> None:
    await api.add_local()
    await api.create_app()
    r = await api.request("DELETE", "/api/v1/servers/local")
    assert (r.status_code, r.json()["error"]["message"]) == (
        409,
        "server 'local' still runs web: delete or move those applications first",
    )


async def test_check_goes_through_the_checker(api: Api) -> None:
    await api.request("POST", "/api/v1/servers", json=ssh_body())
    r = await api.request("POST", "/api/v1/servers/far/check")
    assert r.json() == {
        "server": "far",
        "ssh": {"ok": True, "detail": "ssh deploy@10.0.0.5"},
        "docker": {"ok": True, "detail": "fake", "version": "0"},
    }
    assert (await api.request("POST", "/api/v1/servers/nope/check")).status_code == 404


async def test_default_checker_leaves_ssh_to_the_deployer(own_nats: NatsServer) -> None:
    made, _ = await make_api(own_nats.url, checker=default_server_checker)
    try:
        await made.request("POST", "/api/v1/servers", json=ssh_body())
        r = await made.request("POST", "/api/v1/servers/far/check")
        assert r.json() == {
            "server": "far",
            "ssh": {"ok": None, "detail": NOT_WIRED},
            "docker": {"ok": None, "detail": NOT_WIRED, "version": None},
        }
    finally:
        await made.client.aclose()
        await made.bus.close()


@pytest.mark.docker
async def test_default_checker_asks_the_local_docker_engine(own_nats: NatsServer, docker_engine: None) -> None:
    made, _ = await make_api(own_nats.url, checker=default_server_checker)
    try:
        await made.add_local()
        r = await made.request("POST", "/api/v1/servers/local/check")
        client = docker.from_env()
        version = client.version()["Version"]
        client.close()
        assert r.json() == {
            "server": "local",
            "ssh": {"ok": True, "detail": "local server: no SSH needed"},
            "docker": {"ok": True, "detail": f"Docker engine {version} answers", "version": version},
        }
    finally:
        await made.client.aclose()
        await made.bus.close()


async def test_an_ssh_servers_proxy_settings_are_kept(api: Api) -> None:
    body = ssh_body() | {"manage_proxy": False, "proxy_http_port": 8081, "proxy_https_port": None}
    body["proxy_dir"] = "/srv/traefik/dynamic"
    assert (await api.request("POST", "/api/v1/servers", json=body)).status_code == 201
    record = await api.state.servers.get("far")
    assert (record.manage_proxy, record.proxy_http_port, record.proxy_https_port, record.proxy_dir) == (
        False,
        8081,
        None,
        "/srv/traefik/dynamic",
    )
    r = await api.request("POST", "/api/v1/servers", json=ssh_body() | {"name": "bad", "proxy_dir": "../etc"})
    assert r.status_code == 422
