"""The deployer stage, per server: start the new version beside the old, hand off to health and
proxy-sync, then retire the old version — or roll back so the old one keeps serving.

    build.done     → prepare (compose file, env), pre-deploy command, start new containers
                     → deploy.done (new containers, and the live ones they will replace)
    proxy.updated  → drain and retire the old version, post-deploy command, prune
                     → deployment.succeeded
    health.failed,
    proxy.failed   → remove the new containers (old ones untouched)  → deployment.rolled_back
    cancelled / failed (timeouts) → remove whatever this deployment started, unless the proxy
                     already sends traffic to it (then it keeps serving until the next deployment)

A rolling update of N replicas goes round N times: deploy.done, health and proxy-sync carry the
batch (1..N); ``proxy.updated`` of batch k < N drains and stops old replica k and starts new replica
k+1 → ``deploy.done`` of batch k+1. A failure once traffic reached new replicas restarts the old
replicas, asks proxy-sync to route back (``deploy.reverting`` → ``proxy.restored``), and only then
removes the new ones → ``deployment.rolled_back``.

Every step converges (containers are found by their deployment label before any is started), so
a redelivered message after a crash ends with exactly one set of containers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog

from zpanel import logstream
from zpanel.bus import Bus, Delivery
from zpanel.errors import PermanentError, RetryableError
from zpanel.events import (
    BuildDone,
    DeployDone,
    DeployFailed,
    DeploymentCancelled,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentSucceeded,
    DeployReverting,
    DeployStarted,
    Event,
    HealthFailed,
    PreviewTornDown,
    ProxyFailed,
    ProxyRestored,
    ProxyUpdated,
    ServerUnreachable,
)
from zpanel.models import ContainerRef, Deployment, Server, preview_app
from zpanel.remote.local import LocalExecutor
from zpanel.remote.servers import Servers
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.slots import SlotsPer
from zpanel.state import State
from zpanel_deployer.deploy import Deployer
from zpanel_deployer.images import deliver_image
from zpanel_deployer.labels import APP as APP_LABEL
from zpanel_deployer.labels import DEPLOYMENT as DEPLOYMENT_LABEL
from zpanel_deployer.request import DEFAULT_ROOT, DeployRequest, Placement
from zpanel_deployer.strategies.steps import Plan, StartOld, Switch, WaitHealthy
from zpanel_deployer.walker import PlanStepError, Progress, rollback, walk

log = structlog.get_logger("zpanel.deployer")

RECORD_WAIT_S = 30.0
HANDLED = (
    "build.done",
    "health.failed",
    "proxy.updated",
    "proxy.failed",
    "deployment.cancelled",
    "deployment.failed",
    "preview.torn_down",
    "proxy.restored",
)
# DeploymentFailed.stage when a rolling update could not route back: both versions keep serving
ROUTE_BACK = "route-back"


@dataclass
class Context:
    dep: Deployment
    server: Server
    deployer: Deployer
    req: DeployRequest
    pump: logstream.LinePump

    async def plan(self) -> Plan:
        """The plan deploy.done was made from, again, from the containers it said it replaces (the
        record keeps them): what runs now no longer tells, old replicas may be stopped already."""
        return await self.deployer.plan(self.req, previous=self.dep.previous_containers)

    @property
    def ids(self) -> dict[str, str]:
        return {"deployment_id": self.dep.id, "app_id": self.dep.app_id, "server_id": self.dep.server_id}


class DeployWorker:
    def __init__(self, bus: Bus, settings: Settings, cipher: Cipher, servers: Servers | None = None) -> None:
        self.bus = bus
        self.settings = settings
        self.cipher = cipher
        self.state = State(bus)
        self.servers = servers or Servers()
        self.local = LocalExecutor()
        self.slots = SlotsPer(settings.deploy_concurrency)  # docker work per server; claims are more

    def placement(self, server: Server) -> Placement:
        # every server publishes app ports on its own loopback: its proxy and the health probes
        # (run on that server, over SSH for remote ones) reach containers there
        root = str(self.settings.home.resolve() / "apps") if server.kind == "local" else DEFAULT_ROOT
        # public domains name the ACME resolver only when the proxies have it (ZPANEL_ACME_EMAIL)
        resolver = "letsencrypt" if self.settings.acme_email else None
        return Placement(root=root, publish_ip="127.0.0.1", certresolver=resolver)

    async def context(self, dep: Deployment, image: str) -> Context:
        server = await self.state.servers.get(dep.server_id)
        key = self.cipher.open(server.private_key) if server.kind == "ssh" else None
        executor = self.servers.executor(server, key)
        app = dep.spec or await self.state.apps.get(dep.app_id)
        runtime = [v for v in app.env if not v.build_time]
        env = {v.key: self.cipher.open(v.value) if v.secret else v.value for v in runtime}
        secrets = frozenset(self.cipher.open(v.value) for v in app.env if v.secret)
        pump = logstream.LinePump(self.bus, dep.id, "deploy")
        deployer = Deployer(executor, self.placement(server), log=pump.write)
        req = DeployRequest(app=app, deployment_id=dep.id, image=image, commit=dep.commit, env=env, secrets=secrets)
        return Context(dep, server, deployer, req, pump)

    async def handle(self, event: Event, delivery: Delivery) -> None:
        if isinstance(event, PreviewTornDown):
            await self.tear_down_preview(event)
            return
        if not event.deployment_id:
            return
        dep = await self.state.deployments.get(event.deployment_id)
        if isinstance(event, DeploymentFailed) and event.stage == ROUTE_BACK:
            return  # the proxy still sends traffic to both versions: removing either would drop it
        if isinstance(event, DeploymentCancelled | DeploymentFailed):
            await self.clean_up(dep, getattr(event, "image", None))
            return
        if dep.status.terminal:
            return
        if isinstance(event, HealthFailed | ProxyUpdated | ProxyFailed | ProxyRestored) and not _shows_deploy_done(dep):
            dep = await self.recorded(dep.id)
            if dep.status.terminal:
                return
        image = getattr(event, "image", None) or dep.image
        if not image:
            raise PermanentError(f"deployment {dep.id} has no image to deploy")
        ctx = await self.context(dep, image)

        async def queued(ahead: int) -> None:
            ctx.pump.write(f"waiting for a deploy slot on {ctx.server.name} ({ahead} ahead)")

        try:
            async with self.slots[ctx.server.name].hold(queued):
                if isinstance(event, BuildDone):
                    await self.start_new(ctx, delivery)
                elif isinstance(event, ProxyUpdated):
                    await self.advance(ctx, event.batch, delivery)
                elif isinstance(event, HealthFailed | ProxyFailed):
                    kind = WaitHealthy if isinstance(event, HealthFailed) else Switch
                    await self.roll_back(ctx, event.reason, list(event.log_tail), kind, event.batch)
                elif isinstance(event, ProxyRestored):
                    await self.finish_revert(ctx, event)
        finally:
            await ctx.pump.close()

    async def recorded(self, dep_id: str, within: float = RECORD_WAIT_S) -> Deployment:
        """The record once it shows deploy.done (the image, the new containers, the ones they
        replace). The gateway's projection writes it and may trail the pipeline for seconds (its
        consumer electing a leader after a NATS node died); acting on the record before then
        would retire nothing or dead-letter the deployment for want of an image."""
        deadline = time.monotonic() + within
        while True:
            dep = await self.state.deployments.get(dep_id)
            if _shows_deploy_done(dep) or dep.status.terminal:
                return dep
            if time.monotonic() > deadline:
                raise RetryableError(f"the record of deployment {dep_id} does not show its containers yet; retrying")
            await asyncio.sleep(0.1)

    async def start_new(self, ctx: Context, delivery: Delivery) -> None:
        if ctx.dep.cancel_requested:
            await self.bus.publish(
                DeploymentCancelled(**ctx.ids, commit=ctx.dep.commit, reason="cancelled before the deploy")
            )
            return
        await self.bus.publish(DeployStarted(**ctx.ids, image=ctx.req.image))
        async with self.servers.limit(ctx.server):
            try:
                if ctx.server.kind == "ssh":
                    sent = await deliver_image(self.local, ctx.deployer.ex, ctx.req.image)
                    ctx.pump.write(f"image {ctx.req.image}: {sent.how}")
                await ctx.deployer.prepare(ctx.req)
                plan = await ctx.deployer.plan(ctx.req)
                ctx.pump.write(f"{plan.strategy}: {len(plan.new)} new container(s), {len(plan.old)} serving now")
                progress = await walk(ctx.deployer, plan, ctx.req)
            except RetryableError as exc:
                if not delivery.last_attempt:
                    raise
                await self.bus.publish(ServerUnreachable(server_id=ctx.server.name, reason=str(exc)))
                await self._failed(ctx, f"{exc} (gave up after {delivery.num_delivered} attempts)", [])
                return
            except PlanStepError as exc:
                if isinstance(exc.cause, RetryableError) and not delivery.last_attempt:
                    raise exc.cause from exc
                report = await rollback(ctx.deployer, plan, ctx.req, exc.index + 1)
                tail = [line for lines in report.logs.values() for line in lines]
                await self._failed(ctx, str(exc), tail)
                return
            except PermanentError as exc:
                await self._failed(ctx, str(exc), [])
                return
        for line in progress.output:
            ctx.pump.write(line)
        await self.hand_off(ctx, plan, progress, 1)

    async def hand_off(self, ctx: Context, plan: Plan, progress: Progress, batch: int) -> None:
        """deploy.done of ``batch``: health checks the new containers started so far; proxy-sync
        then routes to the plan's Switch of that batch (a rolling update: new and old replicas)."""
        route: list[ContainerRef] = []
        if plan.batches > 1:
            route = await ctx.deployer.refs(ctx.req, plan.route(batch))
            ctx.pump.write(f"replica {batch} of {plan.batches} started; routing next to {len(route)} container(s)")
        await self.bus.publish(
            DeployDone(
                **ctx.ids,
                image=ctx.req.image,
                containers=progress.containers,
                previous=list(plan.old),
                route=route,
                batch=batch,
                batches=plan.batches,
            )
        )

    async def advance(self, ctx: Context, batch: int, delivery: Delivery) -> None:
        """Traffic reached batch ``batch``: start the next batch of a rolling update, or retire the
        old version once the last one is routed."""
        plan = await ctx.plan()
        if batch >= plan.batches:
            await self.retire_old(ctx, plan)
            return
        if ctx.dep.cancel_requested:
            await self.revert(ctx, plan, "cancelled during the rolling update", [], batch + 1, "cancelled")
            return
        try:
            # drain and stop old replica ``batch``, start new replica ``batch + 1``
            progress = await walk(ctx.deployer, plan, ctx.req, start=plan.after_switch(batch))
        except PlanStepError as exc:
            if isinstance(exc.cause, RetryableError) and not delivery.last_attempt:
                raise exc.cause from exc
            await self.revert(ctx, plan, str(exc), [], plan.batch_at(exc.index))
            return
        await self.hand_off(ctx, plan, progress, batch + 1)

    async def retire_old(self, ctx: Context, plan: Plan) -> None:
        progress = await walk(ctx.deployer, plan, ctx.req, start=plan.after_switch())
        for line in [*progress.output, *progress.warnings]:
            ctx.pump.write(line)
        await self.prune(ctx)
        duration = (time.time() - ctx.dep.created_at.timestamp()) if ctx.dep.created_at else None
        await self.bus.publish(
            DeploymentSucceeded(
                **ctx.ids,
                commit=ctx.dep.commit,
                image=ctx.req.image,
                duration_s=duration,
                url=self.url(ctx),
                log_tail=progress.warnings,
            )
        )

    async def prune(self, ctx: Context) -> None:
        """Keep the app's last N versions; never this one nor the rollback target (the version
        that served until now, still ``current`` until this deployment is recorded succeeded)."""
        previous = await self.state.current(ctx.dep.app_id)
        history = await self.state.app_deployments(ctx.dep.app_id, limit=50)
        previous_image = next((d.image for d in history if d.id == previous and d.image), None)
        recent = [d.image for d in history if d.image and d.status.value == "succeeded"]
        pruned = await ctx.deployer.prune(
            ctx.req,
            protect_deployments=[previous] if previous else [],
            protect_images=[previous_image] if previous_image else [],
            recent_images=[ctx.req.image, *recent],
        )
        for warning in pruned.warnings:
            ctx.pump.write(warning)

    async def roll_back(
        self, ctx: Context, reason: str, tail: list[str], kind: type[WaitHealthy] | type[Switch], batch: int
    ) -> None:
        """Health or the switch of ``batch`` failed (proxy-sync has put its previous routes back)."""
        plan = await ctx.plan()
        failed_at = plan.step_of(kind, batch)
        if plan.switched_before(failed_at):
            await self.revert(ctx, plan, reason, tail, batch)
            return
        report = await rollback(ctx.deployer, plan, ctx.req, failed_at + 1)
        await self._rolled_back(ctx, report.removed, reason, tail, report.logs)

    async def revert(
        self, ctx: Context, plan: Plan, reason: str, tail: list[str], batch: int, outcome: str = "rolled_back"
    ) -> None:
        """Traffic already reaches new replicas: restart the old replicas stopped so far and ask
        proxy-sync to route back to them; the new ones are removed once it has (``finish_revert``)."""
        if not plan.old:  # no previous version to go back to: nothing to route to
            report = await rollback(ctx.deployer, plan, ctx.req, plan.revert_point())
            await self._rolled_back(ctx, report.removed, reason, tail, report.logs, outcome)
            return
        stopped = [n for step in plan.rollback(plan.revert_point()) if isinstance(step, StartOld) for n in step.names]
        if stopped:
            await ctx.deployer.start(stopped)
        route = await ctx.deployer.refs(ctx.req, [c.name for c in plan.old])
        ctx.pump.write(
            f"{ctx.req.redact(reason)}: restarted {', '.join(stopped) or 'nothing'}; routing back to the previous"
            " version before removing the new replicas"
        )
        await self.bus.publish(
            DeployReverting(
                **ctx.ids,
                route=route,
                reason=ctx.req.redact(reason),
                log_tail=[ctx.req.redact(line) for line in tail][-30:],
                batch=batch,
                batches=plan.batches,
                outcome="cancelled" if outcome == "cancelled" else "rolled_back",
            )
        )

    async def finish_revert(self, ctx: Context, event: ProxyRestored) -> None:
        plan = await ctx.plan()
        if event.error:
            reason = (
                f"{event.reason}; routing back to the previous version failed: {event.error}. Both versions keep"
                " running and serving: deploy again, or roll back"
            )
            ctx.pump.write(reason)
            await self.bus.publish(
                DeploymentFailed(**ctx.ids, commit=ctx.dep.commit, image=ctx.req.image, reason=reason, stage=ROUTE_BACK)
            )
            return
        report = await rollback(ctx.deployer, plan, ctx.req, plan.revert_point())
        await self._rolled_back(ctx, report.removed, event.reason, list(event.log_tail), report.logs, event.outcome)

    async def _rolled_back(
        self,
        ctx: Context,
        removed: list[str],
        reason: str,
        tail: list[str],
        logs_of_removed: dict[str, list[str]],
        outcome: str = "rolled_back",
    ) -> None:
        ctx.pump.write(f"rolled back: removed {', '.join(removed) or 'nothing'}; the previous version keeps serving")
        # the tail may be a failing container's output: it can print the app's secrets
        logs = [ctx.req.redact(line) for line in tail] or [line for lines in logs_of_removed.values() for line in lines]
        reason = ctx.req.redact(reason)
        end = DeploymentCancelled if outcome == "cancelled" else DeploymentRolledBack
        await self.bus.publish(
            end(**ctx.ids, commit=ctx.dep.commit, image=ctx.req.image, reason=reason, log_tail=logs[-30:])
        )

    async def clean_up(self, dep: Deployment, image: str | None = None) -> None:
        """A cancelled or failed deployment leaves nothing running, unless it is the live version
        or the proxy already sends traffic to it."""
        if await self.state.current(dep.app_id) == dep.id:
            return
        # containers are found by their deployment label: a record that has not caught up with
        # build.done yet (no image) must not keep them running
        ctx = await self.context(dep, image or dep.image or "")
        try:
            if _switched(dep):
                # a deadline or failure after a switch, a rolling update part-way: removing them
                # would drop requests. They keep serving until the next deployment replaces them.
                found = await ctx.deployer.containers({APP_LABEL: dep.app_id, DEPLOYMENT_LABEL: dep.id})
                if found:
                    names = ", ".join(c.name for c in found)
                    ctx.pump.write(f"left running: {names} (the proxy already sends traffic to them)")
                return
            removed = await ctx.deployer.remove_deployment(ctx.req)
            if removed:
                ctx.pump.write(f"removed {', '.join(removed)}")
        finally:
            await ctx.pump.close()

    async def tear_down_preview(self, event: PreviewTornDown) -> None:
        app = await self.state.apps.find(event.app_id)
        if app is None:
            return
        preview = preview_app(app, event.number)
        server = await self.state.servers.get(event.server_id)
        key = self.cipher.open(server.private_key) if server.kind == "ssh" else None
        deployer = Deployer(self.servers.executor(server, key), self.placement(server))
        found = await deployer.containers({APP_LABEL: preview.id})
        await deployer.remove([c.name for c in found])
        log.info("deployer.preview_torn_down", app_id=preview.id, removed=[c.name for c in found])

    async def _failed(self, ctx: Context, reason: str, tail: list[str]) -> None:
        ctx.pump.write(f"deploy failed: {reason}")
        await self.bus.publish(DeployFailed(**ctx.ids, reason=reason, log_tail=tail[-30:]))

    def url(self, ctx: Context) -> str | None:
        if not ctx.req.app.domains:
            return None
        port = self.settings.proxy_http_port
        suffix = "" if port == 80 or ctx.server.kind != "local" else f":{port}"
        return f"http://{ctx.req.app.domains[0]}{suffix}"


def _switched(dep: Deployment) -> bool:
    """The record shows a proxy switch to this deployment's containers (a proxy.updated with
    domains: a rolling update's first batch is enough)."""
    return dep.routed_at is not None


def _shows_deploy_done(dep: Deployment) -> bool:
    return bool(dep.containers or dep.previous_containers)


async def setup(bus: Bus, settings: Settings) -> DeployWorker:
    worker = DeployWorker(bus, settings, Cipher.from_home(settings.home, settings.secret_key))
    await bus.consume_per_server(
        stage="deployer", event_types=HANDLED, handler=worker.handle, concurrency=settings.deploy_claims
    )
    return worker
