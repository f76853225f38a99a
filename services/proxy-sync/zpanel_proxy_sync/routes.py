"""What proxy-sync routes, independent of the proxy: one application's domains to its upstreams,
tagged with the deployment that serves them; and the TLS choices both proxies share."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from zpanel_proxy_sync.errors import BadRoute

DEPLOYMENT_HEADER = "X-Zpanel-Deployment"
"""Added by the proxy to every response: names the deployment that served it, so a switch can be
verified from outside and operators can tell versions apart."""

LOCAL_SUFFIXES = (".localhost", ".test", ".example", ".invalid", ".local", ".internal", ".home.arpa")
"""Domains no public CA will certify: they get the proxy's internal/self-signed certificate."""

_DOMAIN = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_UPSTREAM = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def is_local_domain(domain: str) -> bool:
    d = domain.lower().rstrip(".")
    if d == "localhost" or d.endswith(LOCAL_SUFFIXES):
        return True
    try:
        ipaddress.ip_address(d)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class TlsOptions:
    enabled: bool = True
    redirect: Literal["public", "all", "none"] = "public"
    """Which domains answer plain HTTP with a redirect to HTTPS. Local domains are served on both
    by default: a browser would warn about their self-signed certificate."""
    certresolver: str | None = None
    """The Traefik resolver that certifies public domains (``acme.resolver``): only when the proxy
    has it, i.e. with ``ZPANEL_ACME_EMAIL``; None: the proxy's default certificate."""
    https_port: int = 443
    """Where redirects point (the proxy's HTTPS port as clients see it)."""


@dataclass(frozen=True)
class AppRoute:
    app: str
    domains: tuple[str, ...]
    upstreams: tuple[str, ...]
    """host:port the proxy reaches each replica at (127.0.0.1:PORT on ``local``, name:port on a
    Docker network in production)."""
    deployment_id: str
    tls: TlsOptions = field(default_factory=TlsOptions)

    def __post_init__(self) -> None:
        if not self.domains:
            raise BadRoute(f"application {self.app!r} has no domain: add one with --domain to route it")
        for d in self.domains:
            if not _DOMAIN.match(d.lower()) and not is_local_domain(d):
                raise BadRoute(f"{d!r} is not a domain name the proxy can route")
        if not self.upstreams:
            raise BadRoute(f"deployment {self.deployment_id} of {self.app!r} has no container to route to")
        for u in self.upstreams:
            if not _UPSTREAM.match(u):
                raise BadRoute(f"upstream {u!r} is not host:port")
        if not re.match(r"^[A-Za-z0-9_.-]+$", self.deployment_id):
            raise BadRoute(f"deployment id {self.deployment_id!r} cannot go in a response header")

    @property
    def public_domains(self) -> tuple[str, ...]:
        return tuple(d for d in self.domains if not is_local_domain(d))

    @property
    def local_domains(self) -> tuple[str, ...]:
        return tuple(d for d in self.domains if is_local_domain(d))

    def redirected(self) -> tuple[str, ...]:
        """Domains whose plain-HTTP requests are redirected to HTTPS."""
        if not self.tls.enabled or self.tls.redirect == "none":
            return ()
        return self.domains if self.tls.redirect == "all" else self.public_domains
