"""The Caddy backend against a real Caddy: apply, snapshot, restore, compare-and-set, HTTPS
with Caddy's internal issuer, and a clear error when the admin API is down."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.harness import proxies
from tests.harness.nats import free_port
from zpanel_proxy_sync.caddy import app_routes, app_snapshot
from zpanel_proxy_sync.caddy_client import CaddyBackend, CaddyClient, Stale
from zpanel_proxy_sync.errors import ProxyError
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.verify import httpx_fetch, verify

NO_TLS = TlsOptions(enabled=False)


@pytest.mark.docker
async def test_apply_snapshot_restore_on_real_caddy(caddy_proxy, versions):
    v1, v2 = await versions("v1"), await versions("v2")
    backend, once = caddy_proxy.backend(), httpx_fetch(caddy_proxy.url)

    async def fetch(host: str) -> tuple[int, str | None]:
        # a Caddy config change is a graceful reload that may close a connection before it answers;
        # clients retry such a request once (RFC 9110 §9.2.2), and so does this one
        try:
            return await once(host)
        except httpx.RemoteProtocolError:
            return await once(host)

    assert await backend.snapshot("shop") is None
    first = AppRoute("shop", ("shop.test",), (v1.ref.address,), "dep-v1", NO_TLS)
    await backend.apply(first)
    await backend.apply(AppRoute("blog", ("blog.test",), (v2.ref.address,), "dep-blog", NO_TLS))
    await verify(fetch, ("shop.test",), "dep-v1", within=10)
    snap = await backend.snapshot("shop")
    assert snap == {"routes": app_routes(first)}
    await backend.apply(AppRoute("shop", ("shop.test",), (v2.ref.address,), "dep-v2", NO_TLS))
    assert await fetch("shop.test") == (200, "dep-v2")
    await backend.restore("shop", snap)
    assert await fetch("shop.test") == (200, "dep-v1")
    await backend.remove("shop")
    assert await fetch("shop.test") == (200, None)  # Caddy's empty answer for an unrouted host
    assert await fetch("blog.test") == (200, "dep-blog")


@pytest.mark.docker
async def test_stale_etag_is_refused(caddy_proxy):
    client = CaddyClient(caddy_proxy.admin_url)
    apps, etag = await client.get("/config/apps")
    await caddy_proxy.backend().apply(AppRoute("blog", ("blog.test",), ("127.0.0.1:9",), "b1", NO_TLS))
    with pytest.raises(Stale):
        await client.patch("/config/apps", apps, etag)
    assert (await client.get("/config/apps"))[0] != apps  # the concurrent write survived


async def test_admin_api_down_says_so():
    port = free_port()
    with pytest.raises(ProxyError) as info:
        await CaddyClient(f"http://127.0.0.1:{port}", timeout=1).get("/config/apps")
    assert str(info.value).startswith(f"Caddy's admin API at http://127.0.0.1:{port} did not answer: ")
    assert str(info.value).endswith("; is Caddy running?")


@pytest.mark.docker
async def test_https_with_internal_issuer_and_redirect(tmp_path, versions):
    v1 = await versions("v1")
    with proxies.caddy(tmp_path / "caddy", tls=True) as proxy:
        tls = TlsOptions(redirect="all", https_port=proxy.https_port)
        await proxy.backend().apply(AppRoute("shop", ("shop.localhost",), (v1.ref.address,), "dep-v1", tls))
        async with httpx.AsyncClient(verify=False) as client:
            # The certificate is chosen by SNI, so name the domain in the TLS handshake too; Caddy
            # issues it in the background after the reload.
            secure = None
            for _ in range(200):
                try:
                    secure = await client.get(
                        proxy.https_url,
                        headers={"Host": "shop.localhost"},
                        extensions={"sni_hostname": "shop.localhost"},
                    )
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert secure is not None, proxy.log.read_text()[-3000:]
            plain = await client.get(proxy.url + "/x?y=1", headers={"Host": "shop.localhost"})
    assert (secure.status_code, secure.text, secure.headers["X-Zpanel-Deployment"]) == (200, "v1\n", "dep-v1")
    assert (plain.status_code, plain.headers["location"]) == (308, f"https://shop.localhost:{proxy.https_port}/x?y=1")


class Counting(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


@pytest.mark.docker
async def test_a_switch_reads_the_config_once_and_a_change_in_between_is_not_lost(caddy_proxy):
    counting = Counting()
    backend = CaddyBackend(CaddyClient(caddy_proxy.admin_url, transport=counting))
    await backend.snapshot("shop")
    await backend.apply(AppRoute("shop", ("shop.test",), ("127.0.0.1:9",), "s1", NO_TLS))
    assert counting.requests == ["GET /config/apps", "PATCH /config/apps"]

    # another writer between the snapshot and the apply: the PATCH is refused (412), read again
    counting.requests.clear()
    await backend.snapshot("shop")
    await caddy_proxy.backend().apply(AppRoute("blog", ("blog.test",), ("127.0.0.1:9",), "b1", NO_TLS))
    await backend.apply(AppRoute("shop", ("shop.test",), ("127.0.0.1:9",), "s2", NO_TLS))
    assert counting.requests == ["GET /config/apps", "PATCH /config/apps", "GET /config/apps", "PATCH /config/apps"]
    apps, _ = await CaddyClient(caddy_proxy.admin_url).get("/config/apps")
    assert app_snapshot(apps, "blog") == {
        "routes": app_routes(AppRoute("blog", ("blog.test",), ("127.0.0.1:9",), "b1", NO_TLS))
    }
    assert app_snapshot(apps, "shop") == {
        "routes": app_routes(AppRoute("shop", ("shop.test",), ("127.0.0.1:9",), "s2", NO_TLS))
    }
    await backend.client.close()
