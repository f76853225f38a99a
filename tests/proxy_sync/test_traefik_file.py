"""Atomic dynamic files, against a real Traefik: routes, removal, ignored temporary files, the
deployment header, HTTPS with the self-signed default certificate and the redirect."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.harness import proxies
from zpanel_proxy_sync.default_cert import COMMON_NAME
from zpanel_proxy_sync.errors import ProxyError
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.traefik import DEFAULT_CERT_FILE
from zpanel_proxy_sync.traefik_file import STAGING, app_file, ensure_default_certificate, write_atomic
from zpanel_proxy_sync.verify import httpx_fetch, verify


async def until(fetch, host, done, within: float = 10.0):
    """Poll through the proxy until ``done(answer)``; the last answer either way."""
    deadline = asyncio.get_running_loop().time() + within
    answer = await fetch(host)
    while not done(answer) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
        answer = await fetch(host)
    return answer


def test_write_atomic_leaves_only_the_target(tmp_path: Path):
    target = tmp_path / "zp-shop.yml"
    write_atomic(target, "a: 1\n")
    write_atomic(target, "a: 2\n")
    # the temporary file is made in the staging folder (one watcher event per switch) and renamed
    assert sorted(p.name for p in tmp_path.iterdir()) == [STAGING, "zp-shop.yml"]
    assert list((tmp_path / STAGING).iterdir()) == []
    assert target.read_text() == "a: 2\n"
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_write_atomic_into_missing_directory_says_where(tmp_path: Path):
    with pytest.raises(ProxyError) as info:
        write_atomic(tmp_path / "nope" / "zp-shop.yml", "a: 1\n")
    assert str(info.value) == (
        f"cannot write Traefik's configuration {tmp_path / 'nope' / 'zp-shop.yml'}: No such file or directory"
    )


def test_default_certificate_is_written_once_and_private(tmp_path: Path):
    assert ensure_default_certificate(tmp_path) is True
    path = tmp_path / DEFAULT_CERT_FILE
    first = path.read_text()
    assert ensure_default_certificate(tmp_path) is False
    assert path.read_text() == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    store = yaml.safe_load(first)["tls"]["stores"]["default"]["defaultCertificate"]
    cert = x509.load_pem_x509_certificate(store["certFile"].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == COMMON_NAME
    assert store["keyFile"].startswith("-----BEGIN PRIVATE KEY-----")


def served_certificate(port: int, server_name: str) -> x509.Certificate:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


@pytest.mark.docker
async def test_apply_snapshot_restore_on_real_traefik(traefik_proxy, versions):
    v1 = await versions("v1")
    backend, fetch = traefik_proxy.backend(), httpx_fetch(traefik_proxy.url)
    assert await backend.snapshot("shop") is None
    # A half-written temporary file in the directory is never read by Traefik.
    (traefik_proxy.dynamic_dir / ".zp-shop.yml.123.tmp").write_text("http: {routers: [broken")
    await backend.apply(AppRoute("shop", ("shop.test",), (v1.ref.address,), "dep-v1", TlsOptions(enabled=False)))
    await verify(fetch, ("shop.test",), "dep-v1", within=10)
    async with httpx.AsyncClient() as client:
        r = await client.get(traefik_proxy.url, headers={"Host": "shop.test"})
    assert (r.status_code, r.text, r.headers["X-Zpanel-Deployment"]) == (200, "v1\n", "dep-v1")
    snap = await backend.snapshot("shop")
    assert snap == app_file(traefik_proxy.dynamic_dir, "shop").read_text()
    await backend.restore("shop", None)
    assert not app_file(traefik_proxy.dynamic_dir, "shop").exists()
    assert await until(fetch, "shop.test", lambda answer: answer[0] == 404) == (404, None)


@pytest.mark.docker
async def test_https_with_self_signed_certificate_and_redirect(tmp_path, versions):
    v1 = await versions("v1")
    with proxies.traefik(tmp_path / "traefik", tls=True) as proxy:
        tls = TlsOptions(redirect="all", https_port=proxy.websecure_port)
        await proxy.backend().apply(AppRoute("shop", ("shop.localhost",), (v1.ref.address,), "dep-v1", tls))
        async with httpx.AsyncClient(verify=False) as client:
            await verify(httpx_fetch(proxy.https_url, client=client), ("shop.localhost",), "dep-v1", within=10)
            secure = await client.get(proxy.https_url, headers={"Host": "shop.localhost"})
            plain = await client.get(proxy.url + "/x?y=1", headers={"Host": "shop.localhost"})
        # Zpanel's default certificate, not one Traefik generates on each reload: the same after a
        # second switch
        first = served_certificate(proxy.websecure_port, "shop.localhost")
        await proxy.backend().apply(AppRoute("shop", ("shop.localhost",), (v1.ref.address,), "dep-v1b", tls))
        async with httpx.AsyncClient(verify=False) as client:
            await verify(httpx_fetch(proxy.https_url, client=client), ("shop.localhost",), "dep-v1b", within=10)
        second = served_certificate(proxy.websecure_port, "shop.localhost")
    assert first.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == COMMON_NAME
    assert second == first
    assert (secure.status_code, secure.text) == (200, "v1\n")
    assert (plain.status_code, plain.headers["location"]) == (
        301,
        f"https://shop.localhost:{proxy.websecure_port}/x?y=1",
    )
