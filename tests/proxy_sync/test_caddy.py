"""Caddy's configuration: the base document, one app's routes, and replacing them in place."""

from __future__ import annotations

from zpanel_proxy_sync.acme import Acme
from zpanel_proxy_sync.caddy import app_routes, app_snapshot, base_config, with_app
from zpanel_proxy_sync.routes import AppRoute, TlsOptions


def serve(route_id: str, hosts: list[str], dep: str = "d7", dial: str = "127.0.0.1:4000") -> dict:
    return {
        "@id": route_id,
        "match": [{"host": hosts}],
        "handle": [
            {"handler": "headers", "response": {"set": {"X-Zpanel-Deployment": [dep]}}},
            {
                "handler": "reverse_proxy",
                "upstreams": [{"dial": dial}],
                "load_balancing": {"retries": 2, "try_interval": "50ms"},
                "transport": {"protocol": "http", "keep_alive": {"idle_timeout": "1s"}},
            },
        ],
        "terminal": True,
    }


def tls_base(public_issuer: dict) -> dict:
    return {
        "admin": {"listen": "127.0.0.1:2019"},
        "apps": {
            "http": {
                "http_port": 80,
                "https_port": 443,
                "servers": {
                    "zp-http": {"listen": [":80"], "routes": [], "automatic_https": {"disable": True}},
                    "zp-https": {"listen": [":443"], "routes": [], "automatic_https": {"disable_redirects": True}},
                },
            },
            "tls": {
                "automation": {
                    "policies": [
                        {"@id": "zp-internal-tls", "subjects": ["localhost"], "issuers": [{"module": "internal"}]},
                        {"issuers": [public_issuer]},
                    ]
                }
            },
            "pki": {"certificate_authorities": {"local": {"install_trust": False}}},
        },
    }


def test_base_config_with_acme_issues_public_domains_from_the_ca():
    assert base_config("127.0.0.1:2019", acme=Acme("ops@example.com")) == tls_base(
        {"module": "acme", "email": "ops@example.com"}
    )
    staging = Acme("ops@example.com", "https://acme-staging-v02.api.letsencrypt.org/directory")
    assert base_config("127.0.0.1:2019", acme=staging) == tls_base(
        {"module": "acme", "email": "ops@example.com", "ca": "https://acme-staging-v02.api.letsencrypt.org/directory"}
    )


def test_base_config_without_acme_asks_no_ca():
    # public domains get Caddy's internal (self-signed) certificate, as Traefik's default one
    assert base_config("127.0.0.1:2019") == tls_base({"module": "internal"})


def test_base_config_plain_http():
    assert base_config("127.0.0.1:2019", "127.0.0.1:8080", None)["apps"] == {
        "http": {
            "http_port": 8080,
            "servers": {"zp-http": {"listen": ["127.0.0.1:8080"], "routes": [], "automatic_https": {"disable": True}}},
        }
    }


def test_app_routes_with_redirect_for_public_domains():
    route = AppRoute(
        "shop", ("shop.example.com", "shop.localhost"), ("127.0.0.1:4000",), "d7", TlsOptions(https_port=8443)
    )
    assert app_routes(route) == {
        "zp-http": [
            serve("zp-shop-http", ["shop.localhost"]),
            {
                "@id": "zp-shop-redirect",
                "match": [{"host": ["shop.example.com"]}],
                "handle": [
                    {
                        "handler": "static_response",
                        "status_code": 308,
                        "headers": {"Location": ["https://{http.request.host}:8443{http.request.uri}"]},
                    }
                ],
                "terminal": True,
            },
        ],
        "zp-https": [serve("zp-shop-https", ["shop.example.com", "shop.localhost"])],
    }


def test_app_routes_plain_http():
    route = AppRoute("shop", ("shop.test",), ("127.0.0.1:4000",), "d7", TlsOptions(enabled=False))
    assert app_routes(route) == {"zp-http": [serve("zp-shop-http", ["shop.test"])]}


def test_with_app_replaces_in_place_and_keeps_others():
    apps = base_config("127.0.0.1:2019")["apps"]
    blog = app_routes(AppRoute("blog", ("blog.test",), ("127.0.0.1:5000",), "b1"))
    shop = app_routes(AppRoute("shop", ("shop.localhost",), ("127.0.0.1:4000",), "d7"))
    wiki = app_routes(AppRoute("wiki", ("wiki.example.com",), ("127.0.0.1:6000",), "w1"))
    apps = with_app(with_app(with_app(apps, "blog", blog), "shop", shop), "wiki", wiki)
    shop2 = app_routes(AppRoute("shop", ("shop.localhost",), ("127.0.0.1:4001",), "d8"))
    updated = with_app(apps, "shop", shop2)
    ids = [r["@id"] for r in updated["http"]["servers"]["zp-https"]["routes"]]
    assert ids == ["zp-blog-https", "zp-shop-https", "zp-wiki-https"]
    assert updated["http"]["servers"]["zp-https"]["routes"][1] == serve(
        "zp-shop-https", ["shop.localhost"], "d8", "127.0.0.1:4001"
    )
    assert updated["tls"]["automation"]["policies"][0]["subjects"] == ["blog.test", "localhost", "shop.localhost"]
    assert app_snapshot(updated, "shop") == {"routes": shop2}
    assert apps["http"]["servers"]["zp-https"]["routes"][1]["@id"] == "zp-shop-https"  # input untouched
    removed = with_app(updated, "shop", None)
    assert app_snapshot(removed, "shop") is None
    assert [r["@id"] for r in removed["http"]["servers"]["zp-https"]["routes"]] == ["zp-blog-https", "zp-wiki-https"]
    assert removed["tls"]["automation"]["policies"][0]["subjects"] == ["blog.test", "localhost"]


def test_app_names_sharing_a_prefix_stay_apart():
    apps = base_config("127.0.0.1:2019", ":80", None)["apps"]
    apps = with_app(
        apps,
        "shop-api",
        app_routes(AppRoute("shop-api", ("api.test",), ("127.0.0.1:1",), "a", TlsOptions(enabled=False))),
    )
    apps = with_app(
        apps, "shop", app_routes(AppRoute("shop", ("shop.test",), ("127.0.0.1:2",), "s", TlsOptions(enabled=False)))
    )
    assert app_snapshot(apps, "shop") == {
        "routes": {"zp-http": [serve("zp-shop-http", ["shop.test"], "s", "127.0.0.1:2")]}
    }
    assert app_snapshot(apps, "shop-api") == {
        "routes": {"zp-http": [serve("zp-shop-api-http", ["api.test"], "a", "127.0.0.1:1")]}
    }
