"""The remote proxy as pure data: the static configuration, the ``docker run`` argv, the label
that says whether a running proxy is the wanted one, and how docker's answers are read."""

from __future__ import annotations

import re

import yaml

from zpanel.models import Server
from zpanel.settings import Settings
from zpanel_proxy_sync.acme import Acme
from zpanel_proxy_sync.bootstrap import (
    ProxySpec,
    Running,
    inspect_argv,
    missing_container,
    name_conflict,
    no_docker,
    static_path,
)
from zpanel_proxy_sync.worker import proxy_spec

SPEC = ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7")


def test_the_static_file_sits_beside_the_dynamic_directory():
    assert static_path("/etc/zpanel/traefik/") == "/etc/zpanel/traefik-static.yml"
    assert SPEC.static_file == "/etc/zpanel/traefik-static.yml"


def test_static_config_listens_on_the_servers_ports_and_watches_the_mounted_directory():
    assert yaml.safe_load(SPEC.static_text()) == {
        "entryPoints": {"web": {"address": ":80"}, "websecure": {"address": ":443"}},
        "providers": {
            "providersThrottleDuration": "50ms",
            "file": {"directory": "/etc/traefik/dynamic", "watch": True},
        },
        "log": {"level": "WARN"},
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
    }
    plain = ProxySpec("/srv/t", "img", http_port=8080, https_port=None, bind="127.0.0.1")
    assert yaml.safe_load(plain.static_text())["entryPoints"] == {"web": {"address": "127.0.0.1:8080"}}
    assert plain.ports() == (8080,)
    assert SPEC.ports() == (80, 443)


def test_run_argv_starts_the_named_labelled_host_network_container():
    digest = SPEC.config_hash()
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert SPEC.run_argv() == [
        "docker",
        "run",
        "--detach",
        "--name",
        "zpanel-proxy",
        "--label",
        "zpanel.proxy=traefik",
        "--label",
        f"zpanel.proxy.config={digest}",
        "--restart",
        "unless-stopped",
        "--network",
        "host",
        "--mount",
        "type=bind,source=/etc/zpanel/traefik-static.yml,target=/etc/traefik/traefik.yml,readonly",
        "--mount",
        "type=bind,source=/etc/zpanel/traefik,target=/etc/traefik/dynamic,readonly",
        "traefik:v3.7",
        "--configFile=/etc/traefik/traefik.yml",
    ]


def test_the_hash_follows_the_static_config_the_image_and_the_mounts_only():
    same = ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7")
    assert same.config_hash() == SPEC.config_hash()
    changed = [
        ProxySpec("/etc/zpanel/traefik/", "traefik:v3.8"),
        ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7", http_port=8080),
        ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7", https_port=None),
        ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7", bind="127.0.0.1"),
        ProxySpec("/srv/proxy", "traefik:v3.7"),
        ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7", acme=Acme("ops@example.com")),
        ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7", acme=Acme("dev@example.com")),
        ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7", acme=Acme("ops@example.com", "https://ca.example/dir")),
    ]
    assert len({SPEC.config_hash(), *(c.config_hash() for c in changed)}) == 1 + len(changed)


def test_a_running_proxy_matches_only_when_running_with_the_wanted_label():
    assert inspect_argv("p") == [
        "docker",
        "inspect",
        "--type",
        "container",
        "--format",
        '{{.State.Status}} {{index .Config.Labels "zpanel.proxy.config"}}',
        "p",
    ]
    digest = SPEC.config_hash()
    assert Running.parse(f"running {digest}\n") == Running("running", digest)
    assert Running.parse(f"running {digest}\n").matches(SPEC) is True
    assert Running.parse(f"restarting {digest}\n").matches(SPEC) is False
    assert Running.parse("running 0123456789abcdef\n").matches(SPEC) is False
    assert Running.parse("running <no value>\n").matches(SPEC) is False


def test_dockers_answers_are_told_apart():
    assert missing_container("Error: No such container: zpanel-proxy\n") is True
    assert missing_container("Error: No such object: zpanel-proxy\n") is True
    assert missing_container("Cannot connect to the Docker daemon") is False
    conflict = 'docker: Error response from daemon: Conflict. The container name "/zpanel-proxy" is already in use'
    assert name_conflict(conflict) is True
    assert name_conflict("port is already allocated") is False
    assert no_docker(127, "sh: 1: docker: not found") is True
    assert no_docker(1, "bash: docker: command not found") is True
    assert no_docker(1, "Error: No such container: x") is False


def test_the_worker_builds_the_spec_from_the_server_and_settings():
    server = Server(name="web1", proxy_http_port=8080, proxy_https_port=None, proxy_dir="/srv/proxy")
    spec = proxy_spec(server, Settings(proxy_image="registry.example/traefik:3"), bind="10.0.0.2")
    assert spec == ProxySpec("/srv/proxy", "registry.example/traefik:3", 8080, None, "10.0.0.2", "zpanel-proxy")
    assert proxy_spec(Server(name="web2"), Settings()) == ProxySpec("/etc/zpanel/traefik", "traefik:v3.7", 80, 443, "")


ACME = ProxySpec("/etc/zpanel/traefik/", "traefik:v3.7", acme=Acme("ops@example.com", "https://ca.example/dir"))


def test_with_acme_the_proxy_has_the_resolver_and_its_store_beside_the_dynamic_directory():
    assert SPEC.acme_file is None
    assert ACME.acme_file == "/etc/zpanel/traefik-acme.json"
    assert yaml.safe_load(ACME.static_text())["certificatesResolvers"] == {
        "letsencrypt": {
            "acme": {
                "email": "ops@example.com",
                "storage": "/etc/traefik/acme.json",
                "httpChallenge": {"entryPoint": "web"},
                "caServer": "https://ca.example/dir",
            }
        }
    }
    argv = ACME.run_argv()
    assert argv[argv.index("traefik:v3.7") - 4 :] == [
        "--mount",
        "type=bind,source=/etc/zpanel/traefik,target=/etc/traefik/dynamic,readonly",
        "--mount",
        "type=bind,source=/etc/zpanel/traefik-acme.json,target=/etc/traefik/acme.json",
        "traefik:v3.7",
        "--configFile=/etc/traefik/traefik.yml",
    ]
    assert "certificatesResolvers" not in yaml.safe_load(SPEC.static_text())
