"""Admission: one deployment at a time per application, the newest waiting one next.

Every trigger (webhook, API, schedule, rollback, another system's push.received) ends in
``request``: the deployment record is created (idempotently, so a redelivered trigger changes
nothing) and either admitted — ``deployment.requested.<server>`` for the builder — or parked as
the application's pending deployment, superseding the one parked before it. ``finish`` runs when a
deployment reaches a terminal status and admits the pending one. Both run under a per-application
lock, so admission decisions never race across gateway processes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TypedDict, Unpack

import structlog

from zpanel import subjects
from zpanel.bus import Bus, KeyLock
from zpanel.errors import Conflict, NotFound
from zpanel.events import (
    DeploymentCancelled,
    DeploymentCancelRequested,
    DeploymentRequested,
    DeploymentSuperseded,
    PreviewTornDown,
)
from zpanel.models import Application, Deployment, StageRecord, Status, Trigger, preview_app, utcnow
from zpanel.state import State
from zpanel_webhook_gateway.idempotency import deployment_id_for
from zpanel_webhook_gateway.inflight import InFlight
from zpanel_webhook_gateway.priority import Priority

__all__ = ["Conductor", "deployment_id_for", "new_deployment_id"]

log = structlog.get_logger("zpanel.conductor")


def new_deployment_id() -> str:
    return uuid.uuid4().hex


class Options(TypedDict, total=False):
    """What a trigger may say about the deployment it asks for, beyond the application."""

    commit: str | None
    image: str | None  # a rollback: reuse this image, build nothing
    rollback_of: str | None
    preview: int | None  # a pull request's number: deploy its preview
    deployment_id: str | None  # fixed by a webhook's 202 before admission


class Conductor:
    def __init__(self, bus: Bus, state: State) -> None:
        self.bus = bus
        self.state = state
        self.lock = KeyLock(bus, ttl=30.0)
        self.inflight = InFlight()  # deployments a webhook's 202 promised, until admission
        self.priority = Priority()  # webhook answers before their admission (intake)

    async def request(self, app: Application, trigger: Trigger, **options: Unpack[Options]) -> Deployment:
        dep = self.draft(app, trigger, **options)
        try:
            await self.state.create_deployment(dep)
        except Conflict:
            return await self.state.deployments.get(dep.id)  # a redelivered trigger: already requested
        await self._mark_open(dep)
        async with self.lock.hold(f"admit.{dep.app_id}"):
            active = await self.state.active(dep.app_id)
            if active is None or active == dep.id:
                await self.state.claim_active(dep.app_id, dep.id)
                await self._admit(dep)
            else:
                replaced = await self.state.swap_pending(dep.app_id, dep.id)
                if replaced and replaced != dep.id:
                    await self.supersede(replaced, by=dep.id)
                log.info("deployment.queued_behind", deployment_id=dep.id, active=active)
        return dep

    def draft(self, app: Application, trigger: Trigger, **options: Unpack[Options]) -> Deployment:
        """The record ``request`` would create, unsaved: also what the API shows for a deployment
        promised in a webhook's 202 whose admission is still on its way (see ``inflight``)."""
        preview = options.get("preview")
        if preview is not None:
            app = preview_app(app, preview)
        now = utcnow()
        return Deployment(
            id=options.get("deployment_id") or new_deployment_id(),
            app_id=app.id,
            app_name=app.name,
            server_id=app.server,
            trigger=trigger,
            commit=options.get("commit"),
            branch=app.branch,
            image=options.get("image"),
            rollback_of=options.get("rollback_of"),
            preview=preview,
            spec=app,
            created_at=now,
            deadline=now + timedelta(seconds=self.bus.settings.deployment_timeout_s),
            stages=[StageRecord(name="queue", status="running", started_at=now)],
        )

    async def _mark_open(self, dep: Deployment) -> None:
        """``state.mark_open``, with the server as the marker's value: the webhook route's queue
        gauge (api/queue.py) counts open deployments per server from a watch of these keys
        without reading each record. (``state.mark_open`` writes ``1``; the gauge reads both.)"""
        locks = await self.bus.kv("locks")
        await locks.put(f"open.{dep.id}", dep.server_id.encode())

    async def _admit(self, dep: Deployment) -> None:
        await self.bus.publish(
            DeploymentRequested(
                deployment_id=dep.id,
                app_id=dep.app_id,
                server_id=dep.server_id,
                trigger=dep.trigger,
                commit=dep.commit,
                image=dep.image,
            ),
            subjects.stage("deployment.requested", dep.server_id),
        )

    async def finish(self, dep: Deployment) -> None:
        """A deployment ended: free its application and admit the pending deployment, if any."""
        await self.state.mark_closed(dep.id)
        async with self.lock.hold(f"admit.{dep.app_id}"):
            released = await self.state.release_active(dep.app_id, dep.id)
            if not released and await self.state.active(dep.app_id) is not None:
                return  # it never held the slot (superseded or cancelled while pending)
            nxt = await self.state.take_pending(dep.app_id)
            if nxt is None:
                return
            queued = await self.state.deployments.find(nxt)
            if queued is None or queued.status.terminal:
                return
            await self.state.claim_active(dep.app_id, nxt)
            await self._admit(queued)

    async def supersede(self, deployment_id: str, by: str) -> None:
        dep = await self.state.deployments.get(deployment_id)
        if dep.status is not Status.QUEUED:
            return
        await self.bus.publish(
            DeploymentSuperseded(
                deployment_id=dep.id,
                app_id=dep.app_id,
                server_id=dep.server_id,
                commit=dep.commit,
                superseded_by=by,
                reason=f"superseded by the newer deployment {by}",
            )
        )

    async def cancel(self, deployment_id: str) -> Deployment:
        """Queued and waiting → cancelled now; running → the stage that holds it stops and says so."""
        dep = await self.state.deployments.get(deployment_id)
        if dep.status.terminal:
            raise Conflict(f"deployment {deployment_id} already ended ({dep.status.value}); nothing to cancel")
        async with self.lock.hold(f"admit.{dep.app_id}"):
            if await self.state.drop_pending_if(dep.app_id, dep.id):
                await self.bus.publish(
                    DeploymentCancelled(
                        deployment_id=dep.id,
                        app_id=dep.app_id,
                        server_id=dep.server_id,
                        commit=dep.commit,
                        reason="cancelled while queued",
                    )
                )
                return dep

        def flag(d: Deployment) -> Deployment | None:
            if d.cancel_requested or d.status.terminal:
                return None
            d.cancel_requested = True
            return d

        dep = await self.state.deployments.update(dep.id, flag)
        await self.bus.publish(
            DeploymentCancelRequested(deployment_id=dep.id, app_id=dep.app_id, server_id=dep.server_id)
        )
        await self.bus.nc.publish(subjects.cancel(dep.id), dep.id.encode())
        return dep

    async def tear_down_preview(self, app: Application, number: int) -> None:
        """A closed pull request: its preview's containers, route and queue go (deployer, proxy-sync)."""
        await self.bus.publish(
            PreviewTornDown(app_id=app.id, server_id=app.server, number=number),
            msg_id=f"preview.torn_down:{app.id}:{number}",
        )

    async def rollback(self, app: Application, to: str | None = None) -> Deployment:
        """Run a previous successful deployment's image again, without a rebuild."""
        if to is None:
            current = await self.state.current(app.id)
            history = await self.state.app_deployments(app.id, limit=200)
            candidates = [d for d in history if d.status is Status.SUCCEEDED and d.image and d.id != current]
            if not candidates:
                raise NotFound(f"{app.name} has no earlier successful deployment to roll back to")
            target = candidates[0]
        else:
            target = await self.state.deployments.get(to)
            if target.app_id != app.id:
                raise NotFound(f"deployment {to} is not one of {app.name}'s")
            if target.status is not Status.SUCCEEDED or not target.image:
                raise Conflict(f"deployment {to} did not succeed ({target.status.value}); pick one that did")
        return await self.request(app, "rollback", commit=target.commit, image=target.image, rollback_of=target.id)
