"""Which SSH servers get their proxy ensured before a route is written (``manage_proxy``), and a
failed ensure writes no route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zpanel.models import Server
from zpanel.remote.local import LocalExecutor
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel_proxy_sync.bootstrap import ProxySpec
from zpanel_proxy_sync.errors import ProxyBootError
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.traefik_remote import RemoteTraefikBackend
from zpanel_proxy_sync.worker import backends


class Boot:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    async def ensure(self, executor: Any, host: str, spec: ProxySpec) -> str:
        self.calls.append((str(executor.server), host, spec.proxy_dir))
        return "started"


async def test_only_servers_that_keep_the_default_get_their_proxy_ensured(tmp_path: Path) -> None:
    cipher = Cipher.from_home(tmp_path, Cipher.generate_key())
    boot = Boot()
    backend_for = backends(Settings(home=tmp_path), cipher, boot=boot)  # type: ignore[arg-type]
    key = cipher.seal("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n")
    managed = backend_for(Server(name="web1", host="10.0.0.1", private_key=key, proxy_dir="/srv/p"))
    own = backend_for(Server(name="web2", host="10.0.0.2", private_key=key, manage_proxy=False))
    assert isinstance(managed, RemoteTraefikBackend) and isinstance(own, RemoteTraefikBackend)
    assert own.ensure_proxy is None
    assert managed.ensure_proxy is not None
    assert await managed.ensure_proxy() == "started"
    assert boot.calls == [("web1", "10.0.0.1", "/srv/p")]


async def test_a_failed_ensure_writes_no_route(tmp_path: Path) -> None:
    async def refuse() -> None:
        raise ProxyBootError("server web1: port 80 is taken")  # the wording: test_proxy_boot

    backend = RemoteTraefikBackend(LocalExecutor(server="web1", engine=None), str(tmp_path / "t"), ensure_proxy=refuse)
    route = AppRoute("shop", ("shop.test",), ("127.0.0.1:8080",), "d1", TlsOptions(enabled=False))
    with pytest.raises(ProxyBootError) as caught:
        await backend.apply(route)
    assert str(caught.value) == "server web1: port 80 is taken"
    assert not (tmp_path / "t").exists()
