"""The labels on every container Zpanel starts.

``zpanel.*`` labels let operators (and the deployer itself, after a crash) find exactly what runs:
``docker ps --filter label=zpanel.deployment=<id>``. The Traefik labels follow the scheme Coolify
uses (routers ``http-<i>-<id>`` and ``https-<i>-<id>`` per domain, entry points ``http``/``https``,
``redirect-to-https`` and ``gzip`` middlewares, the ``letsencrypt`` resolver), so a Traefik with the
Docker provider routes the app without any file from proxy-sync. The resolver is named only when
asked for (with ``ZPANEL_ACME_EMAIL``): a Traefik without it would log an error for every router.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

APP = "zpanel.app"
APP_NAME = "zpanel.app-name"
DEPLOYMENT = "zpanel.deployment"
COMMIT = "zpanel.commit"
REPLICA = "zpanel.replica"
ROLE = "zpanel.role"
MANAGED = "zpanel.managed"

ROLE_APP = "app"
ROLE_PREDEPLOY = "pre-deploy"


@dataclass(frozen=True)
class Domain:
    host: str
    https: bool
    path: str = "/"


def parse_domain(value: str) -> Domain:
    """``example.com`` and ``https://example.com`` are HTTPS (with a redirect from HTTP);
    ``http://example.com`` is plain HTTP. A path after the host becomes a PathPrefix."""
    https = not value.startswith("http://")
    rest = value.split("://", 1)[1] if "://" in value else value
    host, _, path = rest.partition("/")
    return Domain(host=host.lower(), https=https, path="/" + path.rstrip("/") if path else "/")


def zpanel_labels(
    *,
    app_id: str,
    app_name: str,
    deployment_id: str,
    commit: str | None,
    replica: int | None = None,
    role: str = ROLE_APP,
) -> dict[str, str]:
    labels = {
        MANAGED: "true",
        APP: app_id,
        APP_NAME: app_name,
        DEPLOYMENT: deployment_id,
        COMMIT: commit or "",
        ROLE: role,
    }
    if replica is not None:
        labels[REPLICA] = str(replica)
    return labels


def traefik_labels(
    *,
    app_id: str,
    domains: Sequence[str],
    port: int,
    network: str | None = None,
    certresolver: str | None = None,
) -> dict[str, str]:
    """Routers and services for each domain. Every replica of every deployment of the app carries the
    same router and service names, so Traefik's Docker provider load-balances across whatever runs."""
    if not domains:
        return {}
    labels: dict[str, str] = {
        "traefik.enable": "true",
        "traefik.http.middlewares.gzip.compress": "true",
        "traefik.http.middlewares.redirect-to-https.redirectscheme.scheme": "https",
    }
    if network:
        labels["traefik.docker.network"] = network
    for i, raw in enumerate(domains):
        d = parse_domain(raw)
        rule = f"Host(`{d.host}`) && PathPrefix(`{d.path}`)"
        http = f"http-{i}-{app_id}"
        labels[f"traefik.http.routers.{http}.entryPoints"] = "http"
        labels[f"traefik.http.routers.{http}.rule"] = rule
        labels[f"traefik.http.routers.{http}.service"] = http
        labels[f"traefik.http.services.{http}.loadbalancer.server.port"] = str(port)
        if not d.https:
            labels[f"traefik.http.routers.{http}.middlewares"] = "gzip"
            continue
        https = f"https-{i}-{app_id}"
        labels[f"traefik.http.routers.{http}.middlewares"] = "redirect-to-https"
        labels[f"traefik.http.routers.{https}.entryPoints"] = "https"
        labels[f"traefik.http.routers.{https}.rule"] = rule
        labels[f"traefik.http.routers.{https}.service"] = https
        labels[f"traefik.http.routers.{https}.middlewares"] = "gzip"
        labels[f"traefik.http.routers.{https}.tls"] = "true"
        if certresolver:
            labels[f"traefik.http.routers.{https}.tls.certresolver"] = certresolver
        labels[f"traefik.http.services.{https}.loadbalancer.server.port"] = str(port)
    return labels


def label_filters(labels: Mapping[str, str]) -> list[str]:
    """``{"zpanel.app": "a1"}`` → ``["label=zpanel.app=a1"]`` for ``docker ps --filter``."""
    return [f"label={k}={v}" for k, v in labels.items()]
