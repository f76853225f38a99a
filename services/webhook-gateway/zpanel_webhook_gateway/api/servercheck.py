"""Server checks. ``local`` is this machine: its Docker engine is asked for its version through
the Docker SDK. An SSH server is reached the way deployments reach it — the same
executor (``zpanel.remote.servers.Servers.check``: the pinned host key, the sealed private key)
— by :class:`SshServerChecker`, which the gateway service passes to ``create_app``; the
``default_server_checker`` alone does not probe SSH servers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from zpanel.errors import ZpanelError
from zpanel.lazy import lazy_module
from zpanel.models import Server
from zpanel.secrets import Cipher

if TYPE_CHECKING:
    import docker
    import docker.errors
else:  # 6 MB RSS (docker SDK + requests): loaded on the first server check, not by an idle gateway
    docker = lazy_module("docker")

NOT_WIRED = "not checked: the deployer's SSH check is wired later"


def _docker_version() -> str:
    client = docker.from_env(timeout=5)
    try:
        return str(client.version().get("Version", "unknown"))
    finally:
        client.close()


def _requests_error() -> type[Exception]:
    import requests.exceptions  # the docker SDK's transport, loaded with it

    return requests.exceptions.RequestException


async def default_server_checker(server: Server, cipher: Cipher) -> dict[str, Any]:
    if server.kind != "local":
        return {
            "ssh": {"ok": None, "detail": NOT_WIRED},
            "docker": {"ok": None, "detail": NOT_WIRED, "version": None},
        }
    ssh = {"ok": True, "detail": "local server: no SSH needed"}
    try:
        version = await asyncio.to_thread(_docker_version)
    except (docker.errors.DockerException, _requests_error(), OSError) as exc:
        detail = (
            f"no Docker engine answers here ({type(exc).__name__}): start dockerd (Debian: apt-get install docker.io)"
        )
        return {"ssh": ssh, "docker": {"ok": False, "detail": detail, "version": None}}
    return {"ssh": ssh, "docker": {"ok": True, "detail": f"Docker engine {version} answers", "version": version}}


SSH_CHECK_TIMEOUT_S = 20.0


class SshServerChecker:
    """``local`` as :func:`default_server_checker`; an SSH server through the deployer's executor,
    one connection attempt (a check answers now; deployments keep their retries). The executor
    modules load on the first SSH check only: the gateway does not pay for asyncssh otherwise."""

    def __init__(self, connect_timeout: float = 5.0) -> None:
        self.connect_timeout = connect_timeout
        self._servers: Any = None

    async def __call__(self, server: Server, cipher: Cipher) -> dict[str, Any]:
        if server.kind == "local":
            return await default_server_checker(server, cipher)
        from zpanel.remote.errors import CommandError
        from zpanel.remote.retry import Backoff
        from zpanel.remote.servers import Servers

        if self._servers is None:
            self._servers = Servers(Backoff(attempts=1), connect_timeout=self.connect_timeout)
        where = f"{server.user}@{server.host}:{server.port}"
        not_checked = {"ok": None, "detail": "not checked: no SSH connection", "version": None}
        try:
            key = cipher.open(server.private_key) if server.private_key else None
            check = await asyncio.wait_for(self._servers.check(server, key), SSH_CHECK_TIMEOUT_S)
        except CommandError as exc:  # SSH worked; docker did not answer there
            return {"ssh": {"ok": True, "detail": f"ssh {where} answers"}, "docker": _docker_failed(exc)}
        except TimeoutError:
            detail = f"ssh {where} did not answer within {SSH_CHECK_TIMEOUT_S:.0f}s"
            return {"ssh": {"ok": False, "detail": detail}, "docker": not_checked}
        except (ZpanelError, ValueError, OSError) as exc:  # unreachable, host key, key refused, unsealable
            return {"ssh": {"ok": False, "detail": str(exc)}, "docker": not_checked}
        version = check.docker_version or "unknown"
        return {
            "ssh": {"ok": True, "detail": f"ssh {where} answers"},
            "docker": {"ok": True, "detail": f"Docker engine {version} answers", "version": version},
        }

    async def close(self) -> None:
        if self._servers is not None:
            await self._servers.close()


def _docker_failed(exc: Exception) -> dict[str, Any]:
    return {"ok": False, "detail": f"docker does not answer there: {exc}", "version": None}
