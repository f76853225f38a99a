"""The remote Traefik backend's shell script, run for real (a local shell stands in for the SSH
session: the executor interface is the same): one write per switch through the staging folder,
the default certificate written once and kept private, snapshot/restore/remove."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from zpanel.remote.local import LocalExecutor
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.traefik import DEFAULT_CERT_FILE, dynamic_config, render
from zpanel_proxy_sync.traefik_file import STAGING
from zpanel_proxy_sync.traefik_remote import RemoteTraefikBackend


def route(deployment: str) -> AppRoute:
    return AppRoute("shop", ("shop.test",), ("127.0.0.1:8080",), deployment, TlsOptions(enabled=False))


async def test_apply_writes_through_staging_and_the_default_certificate_once(tmp_path: Path):
    # a server name of its own: the backend remembers per (server, directory) that the
    # certificate is there
    executor = LocalExecutor(server=f"test-{uuid.uuid4().hex[:8]}", engine=None)
    directory = tmp_path / "traefik"
    backend = RemoteTraefikBackend(executor, str(directory))

    assert await backend.snapshot("shop") is None
    await backend.apply(route("d1"))
    cert = (directory / DEFAULT_CERT_FILE).read_text()
    assert yaml.safe_load(cert)["tls"]["stores"]["default"]["defaultCertificate"]["certFile"].startswith(
        "-----BEGIN CERTIFICATE-----"
    )
    assert oct((directory / DEFAULT_CERT_FILE).stat().st_mode & 0o777) == "0o600"
    assert oct((directory / "zp-shop.yml").stat().st_mode & 0o777) == "0o644"
    assert await backend.snapshot("shop") == render(dynamic_config(route("d1")))

    # another backend for the same server (they are made per event) keeps the certificate
    await RemoteTraefikBackend(LocalExecutor(server="other", engine=None), str(directory)).apply(route("d2"))
    assert (directory / DEFAULT_CERT_FILE).read_text() == cert
    assert sorted(p.name for p in directory.iterdir()) == sorted([STAGING, DEFAULT_CERT_FILE, "zp-shop.yml"])
    assert list((directory / STAGING).iterdir()) == []

    before = await backend.snapshot("shop")
    await backend.apply(route("d3"))
    await backend.restore("shop", before)
    assert await backend.snapshot("shop") == render(dynamic_config(route("d2")))
    await backend.remove("shop")
    assert await backend.snapshot("shop") is None
