"""The proxy-sync stage: ``health.passed.<server>`` → the app's domains route to the new
containers, verified from outside (a request with the app's Host header through the proxy must
come back from the new deployment, told by the ``X-Zpanel-Deployment`` header the proxy adds) →
``proxy.updated``. A switch that does not verify puts the previous routes back → ``proxy.failed``,
and the deployer rolls back: the old version never stops serving.

A rolling update routes each batch to the event's ``route`` (new replicas so far plus the old ones
not yet replaced); ``deploy.reverting`` routes back to the old version → ``proxy.restored``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import structlog

from zpanel import logstream
from zpanel.bus import Bus, Delivery
from zpanel.errors import PermanentError, RetryableError
from zpanel.events import (
    DeploymentCancelled,
    DeployReverting,
    Event,
    HealthPassed,
    PreviewTornDown,
    ProxyFailed,
    ProxyRestored,
    ProxyUpdated,
)
from zpanel.models import Server, preview_app
from zpanel.remote.servers import Servers
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.state import State
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
HANDLED = ("health.passed", "deploy.reverting", "preview.torn_down")


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
        if isinstance(event, DeployReverting):
            await self.route_back(event, delivery)
            return
        if not isinstance(event, HealthPassed):
            return
        dep = await self.state.deployments.get(event.deployment_id)
        if dep.status.terminal:
            return
        ids = {"deployment_id": dep.id, "app_id": dep.app_id, "server_id": dep.server_id}
        batch = {"batch": event.batch, "batches": event.batches}
        # past a rolling update's first batch traffic reaches new replicas: the deployer undoes it
        if dep.cancel_requested and event.batch == 1:
            await self.bus.publish(DeploymentCancelled(**ids, commit=dep.commit, reason="cancelled before the switch"))
            return
        app = dep.spec or await self.state.apps.get(dep.app_id)
        upstreams = [c.address for c in (event.route or event.containers)]
        if not app.domains:
            await logstream.append(self.bus, dep.id, "route", "no domain: nothing to route (add one with --domain)")
            await self.bus.publish(ProxyUpdated(**ids, domains=[], upstreams=upstreams, **batch))
            return
        try:
            elapsed = await self._switch(dep.server_id, app.name, app.domains, upstreams, dep.id, delivery)
        except _Refused as exc:
            await self._failed(ids, str(exc), event.batch, event.batches)
            return
        await logstream.append(
            self.bus, dep.id, "route", f"{', '.join(app.domains)} → {', '.join(upstreams)} (verified in {elapsed:.2f}s)"
        )
        await self.bus.publish(
            ProxyUpdated(**ids, domains=list(app.domains), upstreams=upstreams, switch_s=elapsed, **batch)
        )

    async def route_back(self, event: DeployReverting, delivery: Delivery) -> None:
        """A rolling update is being undone: the app's domains go back to the old version."""
        dep = await self.state.deployments.get(event.deployment_id)
        if dep.status.terminal:
            return
        ids = {"deployment_id": dep.id, "app_id": dep.app_id, "server_id": dep.server_id}
        app = dep.spec or await self.state.apps.get(dep.app_id)
        upstreams = [c.address for c in event.route]
        error: str | None = None
        if app.domains:
            # the route is marked as the version that served before: a config the proxy has not
            # loaded yet cannot pass verification under the current (new) deployment's mark
            marker = await self.state.current(dep.app_id) or f"{dep.id}.reverted"
            try:
                elapsed = await self._switch(dep.server_id, app.name, app.domains, upstreams, marker, delivery)
            except _Refused as exc:
                error = str(exc)
            else:
                text = f"{', '.join(app.domains)} → {', '.join(upstreams)} again (verified in {elapsed:.2f}s)"
                await logstream.append(self.bus, dep.id, "route", text)
        await self.bus.publish(
            ProxyRestored(
                **ids,
                upstreams=upstreams,
                reason=event.reason,
                log_tail=list(event.log_tail),
                outcome=event.outcome,
                error=error,
                batch=event.batch,
                batches=event.batches,
            )
        )

    async def _switch(
        self, server_id: str, app: str, domains: list[str], upstreams: list[str], mark: str, delivery: Delivery
    ) -> float:
        """Route ``domains`` to ``upstreams`` and verify it; seconds it took. _Refused when it did
        not take (the previous routes are back), a RetryableError while attempts remain."""
        server = await self.state.servers.get(server_id)
        try:
            backend = self.backend_for(server)
            route = AppRoute(
                app=app,
                domains=tuple(domains),
                upstreams=tuple(upstreams),
                deployment_id=mark,
                tls=self.tls_for(server),
            )
            fetch = self.fetch_for(route, server)
            switched = await switch(
                backend, route, lambda r: verify(fetch, r.domains, r.deployment_id, within=self.verify_within)
            )
        except (VerifyFailed, BadRoute, PermanentError) as exc:
            raise _Refused(str(exc)) from exc
        except RetryableError as exc:
            if not delivery.last_attempt:
                raise
            raise _Refused(f"{exc} (gave up after {delivery.num_delivered} attempts)") from exc
        return switched.elapsed

    async def tear_down_preview(self, event: PreviewTornDown) -> None:
        app = await self.state.apps.find(event.app_id)
        if app is None or not app.domains:
            return
        server = await self.state.servers.get(event.server_id)
        await self.backend_for(server).remove(preview_app(app, event.number).name)

    async def _failed(self, ids: dict[str, str], reason: str, batch: int = 1, batches: int = 1) -> None:
        log.warning("proxy.failed", reason=reason)
        await logstream.append(self.bus, ids["deployment_id"], "route", f"switch failed: {reason}")
        await self.bus.publish(ProxyFailed(**ids, reason=reason, batch=batch, batches=batches))


class _Refused(Exception):
    """The switch did not take; the message says why."""


async def setup(bus: Bus, settings: Settings) -> ProxyWorker:
    settings.traefik_dir.mkdir(parents=True, exist_ok=True)
    worker = ProxyWorker(bus, settings, backends(settings, Cipher.from_home(settings.home, settings.secret_key)))
    await bus.consume_per_server(
        stage="proxy",
        event_types=HANDLED,
        handler=worker.handle,
        concurrency=settings.stage_claims,
    )
    return worker
