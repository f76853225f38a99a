"""The proxy-sync stage: ``health.passed.<server>`` → the app's domains route to the new
containers, verified from outside (a request with the app's Host header through the proxy must
come back from the new deployment, told by the ``X-Zpanel-Deployment`` header the proxy adds) →
``proxy.updated``. A switch that does not verify puts the previous routes back → ``proxy.failed``,
and the deployer rolls back: the old version never stops serving.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import structlog

from zpanel import logstream
from zpanel.bus import Bus, Delivery
from zpanel.errors import PermanentError, RetryableError
from zpanel.events import DeploymentCancelled, Event, HealthPassed, PreviewTornDown, ProxyFailed, ProxyUpdated
from zpanel.models import Server, preview_app
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.state import State
from zpanel_deployer.servers import Servers
from zpanel_proxy_sync import bootstrap
from zpanel_proxy_sync.acme import Acme, resolver
from zpanel_proxy_sync.backend import ProxyBackend
from zpanel_proxy_sync.caddy_client import CaddyBackend, CaddyClient
from zpanel_proxy_sync.errors import BadRoute, VerifyFailed
from zpanel_proxy_sync.proxy_boot import ProxyBoot
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.switch import switch
from zpanel_proxy_sync.traefik_file import TraefikFileBackend
from zpanel_proxy_sync.traefik_remote import RemoteTraefikBackend
from zpanel_proxy_sync.verify import Fetch, httpx_fetch, verify

log = structlog.get_logger("zpanel.proxy_sync")

BackendFor = Callable[[Server], ProxyBackend]


def proxy_spec(server: Server, settings: Settings, bind: str = "") -> bootstrap.ProxySpec:
    """The Traefik Zpanel runs on an SSH server (``bind``: ``ZPANEL_PROXY_BIND``, as for the
    local proxy; empty in production: every interface)."""
    return bootstrap.ProxySpec(
        proxy_dir=server.proxy_dir,
        image=settings.proxy_image,
        http_port=server.proxy_http_port,
        https_port=server.proxy_https_port,
        bind=bind,
        name=bootstrap.CONTAINER,
        acme=Acme.of(settings.acme_email, settings.acme_ca),
    )


def backends(
    settings: Settings, cipher: Cipher | None = None, servers: Servers | None = None, boot: ProxyBoot | None = None
) -> BackendFor:
    """``local``: the stack's own Traefik directory or Caddy admin API. SSH servers: their Traefik
    directory, written over the same pooled SSH connection the deployer uses, after making sure
    (once per process) that the server runs that Traefik unless it opted out (``manage_proxy``)."""
    traefik = TraefikFileBackend(settings.traefik_dir)
    caddy = CaddyBackend(CaddyClient(settings.caddy_admin_url))
    pool = servers or Servers()
    proxies = boot or ProxyBoot()
    bind = os.environ.get("ZPANEL_PROXY_BIND", "")

    def backend_for(server: Server) -> ProxyBackend:
        if server.kind == "local":
            return caddy if (server.proxy == "caddy" or settings.proxy_kind == "caddy") else traefik
        if server.proxy != "traefik" or cipher is None:
            raise PermanentError(
                f"server {server.name!r} uses {server.proxy}; SSH servers are routed with Traefik only"
            )
        executor = pool.executor(server, cipher.open(server.private_key))
        ensure = None
        if server.manage_proxy:
            spec = proxy_spec(server, settings, bind)

            async def ensure() -> str:
                return await proxies.ensure(executor, server.host, spec)

        return RemoteTraefikBackend(executor, server.proxy_dir, ensure_proxy=ensure)

    return backend_for


local_backends = backends


class ProxyWorker:
    def __init__(self, bus: Bus, settings: Settings, backend_for: BackendFor, verify_within: float = 10.0) -> None:
        self.bus = bus
        self.settings = settings
        self.state = State(bus)
        self.backend_for = backend_for
        self.verify_within = verify_within

    def fetch_for(self, route: AppRoute, server: Server) -> Fetch:
        if server.kind == "local":
            plain = httpx_fetch(f"http://127.0.0.1:{self.settings.proxy_http_port}")
            secure = httpx_fetch(f"https://127.0.0.1:{self.settings.proxy_https_port}")
        else:  # from outside, as a visitor reaches the server
            plain = httpx_fetch(f"http://{server.host}:{server.proxy_http_port}")
            secure = httpx_fetch(f"https://{server.host}:{server.proxy_https_port or 443}")
        redirected = set(route.redirected())

        async def fetch(host: str) -> tuple[int, str | None]:
            return await (secure if host in redirected else plain)(host)

        return fetch

    def tls_for(self, server: Server) -> TlsOptions:
        """An SSH server's proxy serves HTTPS on its own port, or not at all."""
        # public domains name the resolver only when the proxies have it (ZPANEL_ACME_EMAIL)
        named = resolver(Acme.of(self.settings.acme_email, self.settings.acme_ca))
        if server.kind == "local":
            return TlsOptions(https_port=self.settings.proxy_https_port, certresolver=named)
        if server.proxy_https_port is None:
            return TlsOptions(enabled=False)
        return TlsOptions(https_port=server.proxy_https_port, certresolver=named)

    async def handle(self, event: Event, delivery: Delivery) -> None:
        if isinstance(event, PreviewTornDown):
            await self.tear_down_preview(event)
            return
        if not isinstance(event, HealthPassed):
            return
        dep = await self.state.deployments.get(event.deployment_id)
        if dep.status.terminal:
            return
        ids = {"deployment_id": dep.id, "app_id": dep.app_id, "server_id": dep.server_id}
        if dep.cancel_requested:
            await self.bus.publish(DeploymentCancelled(**ids, commit=dep.commit, reason="cancelled before the switch"))
            return
        app = dep.spec or await self.state.apps.get(dep.app_id)
        upstreams = [c.address for c in event.containers]
        if not app.domains:
            await logstream.append(self.bus, dep.id, "route", "no domain: nothing to route (add one with --domain)")
            await self.bus.publish(ProxyUpdated(**ids, domains=[], upstreams=upstreams))
            return
        server = await self.state.servers.get(dep.server_id)
        try:
            backend = self.backend_for(server)
            route = AppRoute(
                app=app.name,
                domains=tuple(app.domains),
                upstreams=tuple(upstreams),
                deployment_id=dep.id,
                tls=self.tls_for(server),
            )
            fetch = self.fetch_for(route, server)
            switched = await switch(
                backend, route, lambda r: verify(fetch, r.domains, r.deployment_id, within=self.verify_within)
            )
        except (VerifyFailed, BadRoute, PermanentError) as exc:
            await self._failed(ids, str(exc))
            return
        except RetryableError as exc:
            if not delivery.last_attempt:
                raise
            await self._failed(ids, f"{exc} (gave up after {delivery.num_delivered} attempts)")
            return
        await logstream.append(
            self.bus,
            dep.id,
            "route",
            f"{', '.join(app.domains)} → {', '.join(upstreams)} (verified in {switched.elapsed:.2f}s)",
        )
        await self.bus.publish(
            ProxyUpdated(**ids, domains=list(app.domains), upstreams=upstreams, switch_s=switched.elapsed)
        )

    async def tear_down_preview(self, event: PreviewTornDown) -> None:
        app = await self.state.apps.find(event.app_id)
        if app is None or not app.domains:
            return
        server = await self.state.servers.get(event.server_id)
        await self.backend_for(server).remove(preview_app(app, event.number).name)

    async def _failed(self, ids: dict[str, str], reason: str) -> None:
        log.warning("proxy.failed", reason=reason)
        await logstream.append(self.bus, ids["deployment_id"], "route", f"switch failed: {reason}")
        await self.bus.publish(ProxyFailed(**ids, reason=reason))


async def setup(bus: Bus, settings: Settings) -> ProxyWorker:
    settings.traefik_dir.mkdir(parents=True, exist_ok=True)
    worker = ProxyWorker(bus, settings, backends(settings, Cipher.from_home(settings.home, settings.secret_key)))
    await bus.consume_per_server(
        stage="proxy",
        event_types=["health.passed", "preview.torn_down"],
        handler=worker.handle,
        concurrency=settings.stage_claims,
    )
    return worker
