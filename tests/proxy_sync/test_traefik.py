"""Traefik's dynamic and static configuration, by exact value."""

from __future__ import annotations

import pytest
import yaml

from zpanel_proxy_sync.acme import Acme, resolver
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.traefik import dynamic_config, render, rule, static_config

TAG = {
    "zp-shop-deployment": {"headers": {"customResponseHeaders": {"X-Zpanel-Deployment": "d7"}}},
    "zp-shop-retry": {"retry": {"attempts": 3, "initialInterval": "50ms"}},
}
TRANSPORTS = {"zp-shop": {"forwardingTimeouts": {"idleConnTimeout": "1s"}}}
SERVICE = {
    "zp-shop": {
        "loadBalancer": {
            "servers": [{"url": "http://127.0.0.1:4000"}, {"url": "http://127.0.0.1:4001"}],
            "passHostHeader": True,
            "serversTransport": "zp-shop",
        }
    }
}


def route(domains, tls=TlsOptions()):
    return AppRoute("shop", domains, ("127.0.0.1:4000", "127.0.0.1:4001"), "d7", tls)


def test_rule_ors_hosts():
    assert rule(("a.test", "b.test")) == "Host(`a.test`) || Host(`b.test`)"


def test_plain_http_only():
    assert dynamic_config(route(("shop.test",), TlsOptions(enabled=False))) == {
        "http": {
            "routers": {
                "zp-shop-http": {
                    "rule": "Host(`shop.test`)",
                    "entryPoints": ["web"],
                    "service": "zp-shop",
                    "middlewares": ["zp-shop-retry", "zp-shop-deployment"],
                },
            },
            "middlewares": TAG,
            "services": SERVICE,
            "serversTransports": TRANSPORTS,
        }
    }


def test_public_and_local_domains_with_default_redirect():
    doc = dynamic_config(route(("shop.example.com", "shop.localhost"), TlsOptions(certresolver="letsencrypt")))
    assert doc == {
        "http": {
            "routers": {
                "zp-shop-http": {
                    "rule": "Host(`shop.localhost`)",
                    "entryPoints": ["web"],
                    "service": "zp-shop",
                    "middlewares": ["zp-shop-retry", "zp-shop-deployment"],
                },
                "zp-shop-http-redirect": {
                    "rule": "Host(`shop.example.com`)",
                    "entryPoints": ["web"],
                    "service": "zp-shop",
                    "middlewares": ["zp-shop-https-redirect"],
                },
                "zp-shop-https": {
                    "rule": "Host(`shop.example.com`)",
                    "entryPoints": ["websecure"],
                    "service": "zp-shop",
                    "middlewares": ["zp-shop-retry", "zp-shop-deployment"],
                    "tls": {"certResolver": "letsencrypt"},
                },
                "zp-shop-https-local": {
                    "rule": "Host(`shop.localhost`)",
                    "entryPoints": ["websecure"],
                    "service": "zp-shop",
                    "middlewares": ["zp-shop-retry", "zp-shop-deployment"],
                    "tls": {},
                },
            },
            "middlewares": {
                **TAG,
                "zp-shop-https-redirect": {"redirectScheme": {"scheme": "https", "permanent": True}},
            },
            "services": SERVICE,
            "serversTransports": TRANSPORTS,
        }
    }


def test_redirect_all_and_none():
    all_ = dynamic_config(route(("shop.example.com", "shop.localhost"), TlsOptions(redirect="all", certresolver="le")))
    assert sorted(all_["http"]["routers"]) == ["zp-shop-http-redirect", "zp-shop-https", "zp-shop-https-local"]
    assert (
        all_["http"]["routers"]["zp-shop-http-redirect"]["rule"] == "Host(`shop.example.com`) || Host(`shop.localhost`)"
    )
    assert all_["http"]["routers"]["zp-shop-https"]["tls"] == {"certResolver": "le"}
    none = dynamic_config(route(("shop.example.com",), TlsOptions(redirect="none")))
    assert sorted(none["http"]["routers"]) == ["zp-shop-http", "zp-shop-https"]
    assert "zp-shop-https-redirect" not in none["http"]["middlewares"]


def test_render_round_trips():
    doc = dynamic_config(route(("shop.test",)))
    assert yaml.safe_load(render(doc)) == doc


def test_without_acme_a_public_domain_names_no_resolver():
    # the proxy has none: Traefik serves its default certificate and logs no error
    doc = dynamic_config(route(("shop.example.com",)))
    assert doc["http"]["routers"]["zp-shop-https"]["tls"] == {}
    assert TlsOptions().certresolver is None
    assert resolver(None) is None
    assert resolver(Acme("ops@example.com")) == "letsencrypt"


def test_static_config():
    base = {
        "entryPoints": {"web": {"address": ":80"}, "websecure": {"address": ":443"}},
        "providers": {"providersThrottleDuration": "50ms", "file": {"directory": "/etc/zpanel/traefik", "watch": True}},
        "log": {"level": "WARN"},
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
    }
    assert static_config("/etc/zpanel/traefik") == base
    assert static_config("/etc/zpanel/traefik", acme=Acme("ops@example.com"), acme_storage="/data/acme.json") == {
        **base,
        "certificatesResolvers": {
            "letsencrypt": {
                "acme": {
                    "email": "ops@example.com",
                    "storage": "/data/acme.json",
                    "httpChallenge": {"entryPoint": "web"},
                }
            }
        },
    }
    staging = Acme("ops@example.com", "https://acme-staging-v02.api.letsencrypt.org/directory")
    assert static_config("/etc/zpanel/traefik", acme=staging)["certificatesResolvers"] == {
        "letsencrypt": {
            "acme": {
                "email": "ops@example.com",
                "storage": "acme.json",
                "httpChallenge": {"entryPoint": "web"},
                "caServer": "https://acme-staging-v02.api.letsencrypt.org/directory",
            }
        }
    }
    local = static_config("/d", web_address="127.0.0.1:8081", websecure_address=None, ping_address="127.0.0.1:8082")
    assert local["entryPoints"] == {"web": {"address": "127.0.0.1:8081"}, "ping": {"address": "127.0.0.1:8082"}}
    assert local["ping"] == {"entryPoint": "ping"}
    assert "certificatesResolvers" not in local


def test_acme_settings_are_checked_and_empty_means_off():
    assert Acme.of(None) is None
    assert Acme.of("  ", "https://ca.example/dir") is None
    assert Acme.of(" ops@example.com ", "") == Acme("ops@example.com", None)
    assert Acme.of("ops@example.com", "https://ca.example/dir") == Acme("ops@example.com", "https://ca.example/dir")
    with pytest.raises(ValueError) as bad_email:
        Acme.of("ops")
    assert str(bad_email.value) == "ZPANEL_ACME_EMAIL: 'ops' is not an e-mail address"
    with pytest.raises(ValueError) as bad_ca:
        Acme.of("ops@example.com", "http://127.0.0.1:14000/dir")
    assert str(bad_ca.value) == "ZPANEL_ACME_CA: 'http://127.0.0.1:14000/dir' must be an https:// ACME directory URL"


def test_redirect_keeps_a_non_standard_https_port():
    doc = dynamic_config(route(("shop.example.com",), TlsOptions(https_port=8443)))
    assert doc["http"]["middlewares"]["zp-shop-https-redirect"] == {
        "redirectScheme": {"scheme": "https", "permanent": True, "port": "8443"}
    }
