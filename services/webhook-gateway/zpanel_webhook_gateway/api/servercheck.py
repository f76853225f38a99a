"""The default server check. ``local`` is this machine: its Docker engine is asked for its version
through the Docker SDK. SSH servers are not probed here: the deployer owns SSH (host-key pinning,
its executor), and its check is wired into ``create_app(server_checker=...)`` later."""

from __future__ import annotations

import asyncio
from typing import Any

import docker
import docker.errors
import requests.exceptions

from zpanel.models import Server
from zpanel.secrets import Cipher

NOT_WIRED = "not checked: the deployer's SSH check is wired later"


def _docker_version() -> str:
    client = docker.from_env(timeout=5)
    try:
        return str(client.version().get("Version", "unknown"))
    finally:
        client.close()


async def default_server_checker(server: Server, cipher: Cipher) -> dict[str, Any]:
    if server.kind != "local":
        return {
            "ssh": {"ok": None, "detail": NOT_WIRED},
            "docker": {"ok": None, "detail": NOT_WIRED, "version": None},
        }
    ssh = {"ok": True, "detail": "local server: no SSH needed"}
    try:
        version = await asyncio.to_thread(_docker_version)
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        detail = (
            f"no Docker engine answers here ({type(exc).__name__}): start dockerd (Debian: apt-get install docker.io)"
        )
        return {"ssh": ssh, "docker": {"ok": False, "detail": detail, "version": None}}
    return {"ssh": ssh, "docker": {"ok": True, "detail": f"Docker engine {version} answers", "version": version}}
