"""Traefik's dynamic configuration for one application: pure, one document per app (one file in
the file provider's directory), so writing one app never touches another.

Routers and the service share the ``zp-<app>`` prefix. The service's servers are the new
deployment's upstreams; a ``headers`` middleware names the deployment on every response. Both sit
in one file, which Traefik loads as one unit: a response's header and upstream always agree.
"""

from __future__ import annotations

from typing import Any

import yaml

from zpanel_proxy_sync.acme import RESOLVER, Acme
from zpanel_proxy_sync.routes import DEPLOYMENT_HEADER, AppRoute

WEB = "web"
WEBSECURE = "websecure"
RETRY_ATTEMPTS = 3
RETRY_INTERVAL = "50ms"
IDLE_TIMEOUT = "1s"
THROTTLE = "50ms"
DEFAULT_CERT_FILE = "zpanel-default-cert.yml"
"""Not ``zp-<app>.yml``: no application's file can have this name."""


def rule(domains: tuple[str, ...]) -> str:
    # Traefik 3's Host() takes one domain; several are OR-ed.
    return " || ".join(f"Host(`{d}`)" for d in domains)


def _router(domains: tuple[str, ...], entrypoint: str, service: str, middlewares: list[str]) -> dict[str, Any]:
    return {"rule": rule(domains), "entryPoints": [entrypoint], "service": service, "middlewares": middlewares}


def dynamic_config(route: AppRoute, web: str = WEB, websecure: str = WEBSECURE) -> dict[str, Any]:
    name = f"zp-{route.app}"
    tag, retry = f"{name}-deployment", f"{name}-retry"
    routers: dict[str, Any] = {}
    middlewares: dict[str, Any] = {
        tag: {"headers": {"customResponseHeaders": {DEPLOYMENT_HEADER: route.deployment_id}}},
        # A connection to the upstream that fails before any answer (a refused or reset dial) is
        # tried again instead of becoming a 502.
        retry: {"retry": {"attempts": RETRY_ATTEMPTS, "initialInterval": RETRY_INTERVAL}},
    }

    redirected = route.redirected()
    served = tuple(d for d in route.domains if d not in redirected)
    if served:
        routers[f"{name}-http"] = _router(served, web, name, [retry, tag])
    if redirected:
        redirect: dict[str, Any] = {"scheme": "https", "permanent": True}
        if route.tls.https_port != 443:
            redirect["port"] = str(route.tls.https_port)
        middlewares[f"{name}-https-redirect"] = {"redirectScheme": redirect}
        routers[f"{name}-http-redirect"] = _router(redirected, web, name, [f"{name}-https-redirect"])
    if route.tls.enabled:
        if route.public_domains:
            secure = _router(route.public_domains, websecure, name, [retry, tag])
            # no resolver named when the proxy has none: Traefik would log an error on every
            # reload and serve its default certificate all the same
            secure["tls"] = {"certResolver": route.tls.certresolver} if route.tls.certresolver else {}
            routers[f"{name}-https"] = secure
        if route.local_domains:
            local = _router(route.local_domains, websecure, name, [retry, tag])
            local["tls"] = {}  # the default certificate: self-signed, see default_cert
            routers[f"{name}-https-local"] = local

    servers = [{"url": f"http://{u}"} for u in route.upstreams]
    service = {"loadBalancer": {"servers": servers, "passHostHeader": True, "serversTransport": name}}
    # Idle keep-alive connections to an upstream close after IDLE_TIMEOUT, so an old version
    # holds no connection once its last request is done and the drain ends promptly.
    transport = {"forwardingTimeouts": {"idleConnTimeout": IDLE_TIMEOUT}}
    return {
        "http": {
            "routers": routers,
            "middlewares": middlewares,
            "services": {name: service},
            "serversTransports": {name: transport},
        }
    }


def default_certificate(cert_pem: str, key_pem: str) -> dict[str, Any]:
    """The ``default`` TLS store's certificate, inline (Traefik reads PEM content where a path
    would go): see ``default_cert`` for why Zpanel provides one."""
    return {"tls": {"stores": {"default": {"defaultCertificate": {"certFile": cert_pem, "keyFile": key_pem}}}}}


def render(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False)


def static_config(
    dynamic_dir: str,
    web_address: str = ":80",
    websecure_address: str | None = ":443",
    ping_address: str | None = None,
    acme: Acme | None = None,
    acme_storage: str = "acme.json",
    log_level: str = "WARN",
) -> dict[str, Any]:
    """Traefik's static configuration as Zpanel runs it: the file provider watching
    ``dynamic_dir`` with a 50 ms throttle (Traefik's 2 s default would delay every switch). The
    throttle only delays a change that follows another reload within 50 ms: a switch writes one
    file with one rename (see ``traefik_file``), so a lone switch is never throttled.

    With ``acme``, the resolver ``letsencrypt`` (HTTP-01 on the ``web`` entrypoint) keeps its
    account and certificates in ``acme_storage``, a file Traefik creates with mode 600."""
    entrypoints: dict[str, Any] = {WEB: {"address": web_address}}
    if websecure_address:
        entrypoints[WEBSECURE] = {"address": websecure_address}
    doc: dict[str, Any] = {
        "entryPoints": entrypoints,
        "providers": {"providersThrottleDuration": THROTTLE, "file": {"directory": dynamic_dir, "watch": True}},
        "log": {"level": log_level},
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
    }
    if ping_address:
        entrypoints["ping"] = {"address": ping_address}
        doc["ping"] = {"entryPoint": "ping"}
    if acme:
        resolver: dict[str, Any] = {"email": acme.email, "storage": acme_storage, "httpChallenge": {"entryPoint": WEB}}
        if acme.ca:
            resolver["caServer"] = acme.ca
        doc["certificatesResolvers"] = {RESOLVER: {"acme": resolver}}
    return doc
