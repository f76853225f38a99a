"""Caddy's configuration for Zpanel: pure. Caddy holds one server for plain HTTP (``zp-http``) and,
with TLS, one for HTTPS (``zp-https``); each application owns the routes whose ``@id`` is
``zp-<app>-http``, ``zp-<app>-redirect`` or ``zp-<app>-https``. ``with_app`` returns the ``apps`` object with one application's routes replaced,
so the client can swap them in one atomic, compare-and-set PATCH.

Local domains (``.localhost``, test domains, IPs) are listed in one TLS automation policy with
Caddy's internal issuer. Every other domain gets the ACME issuer with ``ZPANEL_ACME_EMAIL`` (see
``acme``), else the internal one too: a self-signed certificate, as Traefik's default.
"""

from __future__ import annotations

import copy
from typing import Any

from zpanel_proxy_sync.acme import Acme
from zpanel_proxy_sync.routes import DEPLOYMENT_HEADER, AppRoute, is_local_domain

HTTP_SERVER = "zp-http"
HTTPS_SERVER = "zp-https"
INTERNAL_POLICY = "zp-internal-tls"


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def base_config(
    admin_address: str, http_address: str = ":80", https_address: str | None = ":443", acme: Acme | None = None
) -> dict[str, Any]:
    """The whole configuration Caddy starts with: no routes yet."""
    servers: dict[str, Any] = {
        HTTP_SERVER: {"listen": [http_address], "routes": [], "automatic_https": {"disable": True}},
    }
    http: dict[str, Any] = {"http_port": _port(http_address), "servers": servers}
    apps: dict[str, Any] = {"http": http}
    if https_address:
        http["https_port"] = _port(https_address)
        # Redirects are ours (per domain, see routes.TlsOptions.redirect), not Caddy's blanket ones.
        servers[HTTPS_SERVER] = {
            "listen": [https_address],
            "routes": [],
            "automatic_https": {"disable_redirects": True},
        }
        # HTTP-01 is answered on the HTTP port, TLS-ALPN-01 on the HTTPS server
        public: dict[str, Any] = {"module": "internal"}
        if acme:
            public = {"module": "acme", "email": acme.email}
            if acme.ca:
                public["ca"] = acme.ca
        apps["tls"] = {
            "automation": {
                "policies": [
                    {"@id": INTERNAL_POLICY, "subjects": ["localhost"], "issuers": [{"module": "internal"}]},
                    {"issuers": [public]},
                ]
            }
        }
        # Never touch the host's trust store: Caddy would otherwise try to install its root CA.
        apps["pki"] = {"certificate_authorities": {"local": {"install_trust": False}}}
    return {"admin": {"listen": admin_address}, "apps": apps}


def _serve(route_id: str, domains: tuple[str, ...], route: AppRoute) -> dict[str, Any]:
    return {
        "@id": route_id,
        "match": [{"host": list(domains)}],
        "handle": [
            {"handler": "headers", "response": {"set": {DEPLOYMENT_HEADER: [route.deployment_id]}}},
            {
                "handler": "reverse_proxy",
                "upstreams": [{"dial": u} for u in route.upstreams],
                # A dial that fails (refused, reset) is tried again instead of becoming a 502.
                "load_balancing": {"retries": 2, "try_interval": "50ms"},
                # Idle upstream connections close after 1 s, so a drained version holds none.
                "transport": {"protocol": "http", "keep_alive": {"idle_timeout": "1s"}},
            },
        ],
        "terminal": True,
    }


def app_routes(route: AppRoute) -> dict[str, list[dict[str, Any]]]:
    """The routes of one application, by server."""
    prefix = f"zp-{route.app}-"
    redirected = route.redirected()
    served = tuple(d for d in route.domains if d not in redirected)
    http: list[dict[str, Any]] = []
    if served:
        http.append(_serve(prefix + "http", served, route))
    if redirected:
        port = "" if route.tls.https_port == 443 else f":{route.tls.https_port}"
        http.append(
            {
                "@id": prefix + "redirect",
                "match": [{"host": list(redirected)}],
                "handle": [
                    {
                        "handler": "static_response",
                        "status_code": 308,
                        "headers": {"Location": [f"https://{{http.request.host}}{port}{{http.request.uri}}"]},
                    }
                ],
                "terminal": True,
            }
        )
    out = {HTTP_SERVER: http}
    if route.tls.enabled:
        out[HTTPS_SERVER] = [_serve(prefix + "https", route.domains, route)]
    return out


ROUTE_KINDS = ("http", "redirect", "https")


def _owned(item: dict[str, Any], app: str) -> bool:
    # Exact ids, not a prefix: app "shop" must not own "zp-shop-api-http".
    return item.get("@id") in {f"zp-{app}-{kind}" for kind in ROUTE_KINDS}


def app_snapshot(apps: dict[str, Any], app: str) -> dict[str, Any] | None:
    """The application's current routes by server, and its local domains; None when it has none."""
    servers = apps.get("http", {}).get("servers", {})
    routes = {name: [r for r in s.get("routes") or [] if _owned(r, app)] for name, s in servers.items()}
    routes = {k: v for k, v in routes.items() if v}
    if not routes:
        return None
    return {"routes": routes}


def with_app(apps: dict[str, Any], app: str, routes: dict[str, list[dict[str, Any]]] | None) -> dict[str, Any]:
    """``apps`` with the application's routes replaced by ``routes`` (None: removed). Routes keep
    their place, so an update never reorders other applications."""
    new = copy.deepcopy(apps)
    routes = routes or {}
    for name, server in new.get("http", {}).get("servers", {}).items():
        old = server.get("routes") or []
        mine = routes.get(name, [])
        at = next((i for i, r in enumerate(old) if _owned(r, app)), len(old))
        kept = [r for r in old if not _owned(r, app)]
        server["routes"] = kept[:at] + mine + kept[at:]
    _sync_internal_policy(new)
    return new


def _sync_internal_policy(apps: dict[str, Any]) -> None:
    """Keep the internal-issuer policy's subjects equal to every local domain routed over HTTPS."""
    policies = apps.get("tls", {}).get("automation", {}).get("policies", [])
    policy = next((p for p in policies if p.get("@id") == INTERNAL_POLICY), None)
    if policy is None:
        return
    https = apps.get("http", {}).get("servers", {}).get(HTTPS_SERVER, {})
    local = {"localhost"}
    for r in https.get("routes") or []:
        for m in r.get("match") or []:
            local.update(h for h in m.get("host", []) if is_local_domain(h))
    policy["subjects"] = sorted(local)
