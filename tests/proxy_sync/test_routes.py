"""The proxy-independent route: validation and which domains get what TLS."""

from __future__ import annotations

import pytest

from zpanel_proxy_sync.errors import BadRoute
from zpanel_proxy_sync.routes import AppRoute, TlsOptions, is_local_domain


@pytest.mark.parametrize(
    ("domain", "local"),
    [
        ("shop.localhost", True),
        ("localhost", True),
        ("api.shop.test", True),
        ("x.example", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("shop.example.com", False),
        ("zpanel.dev", False),
        ("testing.com", False),
    ],
)
def test_is_local_domain(domain, local):
    assert is_local_domain(domain) is local


def test_domains_split_and_redirects():
    route = AppRoute("shop", ("shop.example.com", "shop.localhost"), ("127.0.0.1:4000",), "d1")
    assert (route.public_domains, route.local_domains) == (("shop.example.com",), ("shop.localhost",))
    assert route.redirected() == ("shop.example.com",)
    assert (
        AppRoute("shop", route.domains, route.upstreams, "d1", TlsOptions(redirect="all")).redirected() == route.domains
    )
    assert AppRoute("shop", route.domains, route.upstreams, "d1", TlsOptions(redirect="none")).redirected() == ()
    assert AppRoute("shop", route.domains, route.upstreams, "d1", TlsOptions(enabled=False)).redirected() == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"domains": ()}, "application 'shop' has no domain: add one with --domain to route it"),
        ({"domains": ("bad domain`)",)}, "'bad domain`)' is not a domain name the proxy can route"),
        ({"upstreams": ()}, "deployment d1 of 'shop' has no container to route to"),
        ({"upstreams": ("web:http",)}, "upstream 'web:http' is not host:port"),
        ({"deployment_id": "d1\r\nX-Evil: 1"}, "deployment id 'd1\\r\\nX-Evil: 1' cannot go in a response header"),
    ],
)
def test_bad_routes_are_refused(kwargs, message):
    args = {"app": "shop", "domains": ("shop.test",), "upstreams": ("127.0.0.1:4000",), "deployment_id": "d1", **kwargs}
    with pytest.raises(BadRoute) as info:
        AppRoute(**args)
    assert str(info.value) == message
