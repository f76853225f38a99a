"""Which TLS a server's routes get: the ACME resolver is named only when the proxies have it."""

from __future__ import annotations

from typing import Any

import pytest

from zpanel.models import Server
from zpanel.settings import load
from zpanel_proxy_sync.routes import TlsOptions
from zpanel_proxy_sync.worker import ProxyWorker


def worker(**over: Any) -> ProxyWorker:
    return ProxyWorker(None, load(**over), backend_for=lambda s: None)  # type: ignore[arg-type,return-value]


LOCAL = Server(name="local", kind="local")
REMOTE = Server(name="web1", kind="ssh", host="10.0.0.5", proxy_https_port=8443)
PLAIN = Server(name="web2", kind="ssh", host="10.0.0.6", proxy_https_port=None)


@pytest.mark.parametrize(
    ("server", "over", "expected"),
    [
        (LOCAL, {}, TlsOptions(https_port=443, certresolver=None)),
        (LOCAL, {"acme_email": "ops@example.com"}, TlsOptions(https_port=443, certresolver="letsencrypt")),
        (REMOTE, {}, TlsOptions(https_port=8443, certresolver=None)),
        (REMOTE, {"acme_email": "ops@example.com"}, TlsOptions(https_port=8443, certresolver="letsencrypt")),
        (PLAIN, {"acme_email": "ops@example.com"}, TlsOptions(enabled=False)),
    ],
)
def test_tls_for_names_the_resolver_only_with_acme(server: Server, over: dict[str, Any], expected: TlsOptions) -> None:
    assert worker(**over).tls_for(server) == expected
