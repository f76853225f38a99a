"""The real Traefik binary with the ACME resolver Zpanel configures. No CA is reachable here, so
the directory points at a closed 127.0.0.1 port: what is shown is that such a proxy starts, keeps
serving routes (HTTP and, with its default certificate, HTTPS) and asks that CA — not that a
certificate is issued, which needs a CA that can reach the domain."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.harness import proxies
from tests.harness.nats import free_port
from zpanel_proxy_sync.acme import Acme, resolver
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.verify import httpx_fetch, verify

DOMAIN = "shop.example.org"


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wait_for_line(log: Path, text: str, within: float = 20.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log within {within}s:\n{log.read_text()[-2000:]}")


async def serve(proxy: proxies.Traefik, upstream: str, acme: Acme | None) -> None:
    route = AppRoute(
        "shop",
        (DOMAIN,),
        (upstream,),
        "d1",
        TlsOptions(redirect="none", https_port=proxy.websecure_port, certresolver=resolver(acme)),
    )
    await proxy.backend().apply(route)
    await verify(httpx_fetch(proxy.url), (DOMAIN,), "d1", within=15)
    async with httpx.AsyncClient(timeout=5, verify=False) as client:
        for base in (proxy.url, proxy.https_url):
            answer = await client.get(base + "/", headers={"Host": DOMAIN})
            assert (answer.status_code, answer.text, answer.headers["X-Zpanel-Deployment"]) == (200, "hello\n", "d1")


async def test_with_acme_traefik_starts_serves_and_asks_the_configured_ca(tmp_path: Path, upstream: str) -> None:
    ca = f"https://127.0.0.1:{free_port()}/directory"  # nothing listens there
    proxy = proxies.Traefik(tmp_path, acme=Acme("ops@example.org", ca)).start()
    try:
        await serve(proxy, upstream, proxy.acme)
        failed = wait_for_line(proxy.log, "Unable to obtain ACME certificate for domains")
        assert ca in failed and DOMAIN in failed
        assert "nonexistent certificate resolver" not in proxy.log.read_text()
    finally:
        proxy.stop()
    assert os.stat(tmp_path / "acme.json").st_mode & 0o777 == 0o600


async def test_without_acme_a_public_domain_gets_the_default_certificate_and_no_error(
    tmp_path: Path, upstream: str
) -> None:
    proxy = proxies.Traefik(tmp_path).start()
    try:
        await serve(proxy, upstream, None)
    finally:
        proxy.stop()
    errors = [line for line in proxy.log.read_text().splitlines() if "ERR" in line]
    assert errors == []
    assert not (tmp_path / "acme.json").exists()
