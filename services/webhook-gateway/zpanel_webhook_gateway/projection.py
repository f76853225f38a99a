"""The deployment record is written here, and only here, from the stage events.

One consumer of every pipeline event turns each into a change of the deployment record (status,
stage timings, image, containers, error). Changes are compare-and-set and monotonic: a status
never moves back, a terminal status is final, so redelivered or reordered events are harmless.
Failures that leave nothing to undo (build.failed, deploy.failed) become deployment.failed here;
every terminal event writes the log's final line and frees the application for its next deployment.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from zpanel import logstream
from zpanel.bus import Bus, Delivery
from zpanel.errors import NotFound
from zpanel.events import (
    TERMINAL_EVENTS,
    BuildDone,
    BuildFailed,
    BuildStarted,
    DeployDone,
    DeployFailed,
    DeploymentFailed,
    DeployStarted,
    Event,
    HealthFailed,
    ProxyFailed,
    ProxyUpdated,
)
from zpanel.models import RANK, Deployment, StageRecord, Status
from zpanel_webhook_gateway.conductor import Conductor

log = structlog.get_logger("zpanel.projection")

TERMINAL_STATUS = {
    "deployment.succeeded": Status.SUCCEEDED,
    "deployment.failed": Status.FAILED,
    "deployment.rolled_back": Status.ROLLED_BACK,
    "deployment.cancelled": Status.CANCELLED,
    "deployment.superseded": Status.SUPERSEDED,
}

# event type → (stage it finishes, its outcome, stage it starts, status it moves to)
TRANSITIONS: dict[str, tuple[str | None, str | None, str | None, Status | None]] = {
    "deployment.requested": ("queue", "succeeded", None, None),
    "build.started": ("queue", "succeeded", "build", Status.BUILDING),
    "build.done": ("build", "succeeded", "deploy", Status.DEPLOYING),
    "build.failed": ("build", "failed", None, None),
    "deploy.started": ("build", "succeeded", "deploy", Status.DEPLOYING),
    "deploy.done": ("deploy", "succeeded", "health", Status.HEALTH_CHECKING),
    "deploy.failed": ("deploy", "failed", None, None),
    "health.passed": ("health", "succeeded", "route", Status.ROUTING),
    "health.failed": ("health", "failed", "finish", None),
    "proxy.updated": ("route", "succeeded", "finish", None),
    "proxy.failed": ("route", "failed", "finish", None),
}


def apply(dep: Deployment, event: Event) -> Deployment | None:
    """The record after ``event``; None when the event changes nothing (already applied or late)."""
    if dep.status.terminal:
        return _late_facts(dep, event)
    at = event.timestamp
    before = _facts(dep)
    if event.type in TERMINAL_STATUS:
        for stage in dep.stages:
            if stage.status == "running":
                stage.status = "succeeded" if event.type == "deployment.succeeded" else "cancelled"
                stage.finished_at = at
        _stage(dep, "finish", at).status = "succeeded" if event.type == "deployment.succeeded" else "failed"
        _stage(dep, "finish", at).finished_at = at
        dep.status = TERMINAL_STATUS[event.type]
        dep.finished_at = at
        reason = getattr(event, "reason", None)
        if reason and dep.status is not Status.SUCCEEDED:
            dep.error = reason
        return dep
    rule = TRANSITIONS.get(event.type)
    if rule is None:
        return None
    if isinstance(event, ProxyUpdated) and event.batch < event.batches:
        rule = (None, None, None, None)  # a rolling update is routing until its last batch is
    done, outcome, start, status = rule
    if done:
        stage = _stage(dep, done, at)
        if stage.finished_at is None:
            stage.status = outcome  # type: ignore[assignment]
            stage.finished_at = at
    if start:
        stage = _stage(dep, start, at)
        if stage.started_at is None:
            stage.started_at = at
        if stage.status == "pending":
            stage.status = "running"
    if status is not None and RANK.get(status.value, 99) > RANK.get(dep.status.value, 99):
        dep.status = status
    if isinstance(event, BuildDone | DeployStarted):
        dep.image = event.image
    if isinstance(event, BuildStarted) and event.commit:
        dep.commit = event.commit
    if isinstance(event, BuildDone) and event.commit:
        dep.commit = event.commit
    if isinstance(event, DeployDone):
        dep.containers = list(event.containers)
        dep.previous_containers = list(event.previous)
    if isinstance(event, ProxyUpdated) and event.domains and dep.routed_at is None:
        dep.routed_at = at
    if isinstance(event, BuildFailed | DeployFailed | HealthFailed | ProxyFailed):
        dep.error = event.reason
    return None if _facts(dep) == before else dep


def _late_facts(dep: Deployment, event: Event) -> Deployment | None:
    """A stage event handled after the terminal one (events of one deployment are handled side by
    side): the status stays final, but what it tells (image, commit, containers, when a stage
    ended) is still kept where the record has nothing."""
    before = _facts(dep)
    if isinstance(event, BuildDone | DeployStarted) and not dep.image:
        dep.image = event.image
    if isinstance(event, BuildStarted | BuildDone) and event.commit and not dep.commit:
        dep.commit = event.commit
    if isinstance(event, DeployDone) and not dep.containers:
        dep.containers = list(event.containers)
        dep.previous_containers = list(event.previous)
    if isinstance(event, ProxyUpdated) and event.domains and dep.routed_at is None:
        dep.routed_at = event.timestamp
    rule = TRANSITIONS.get(event.type)
    if rule and rule[0]:
        stage = next((st for st in dep.stages if st.name == rule[0]), None)
        if stage is not None and stage.started_at is not None and stage.finished_at is None:
            stage.finished_at = event.timestamp
    return None if _facts(dep) == before else dep


def _facts(dep: Deployment) -> tuple[object, ...]:
    """Everything ``apply`` may change, to tell whether it did: cheaper than dumping the whole
    record (its ``spec`` is the application, env and all) twice for every event."""
    stages = [(st.name, st.status, st.started_at, st.finished_at) for st in dep.stages]
    return (
        dep.status,
        dep.error,
        dep.image,
        dep.commit,
        dep.finished_at,
        dep.routed_at,
        stages,
        list(dep.containers),
        list(dep.previous_containers),
    )


def _stage(dep: Deployment, name: str, at: datetime) -> StageRecord:
    for stage in dep.stages:
        if stage.name == name:
            return stage
    stage = StageRecord(name=name, status="pending")  # type: ignore[arg-type]
    dep.stages.append(stage)
    return stage


class Projection:
    def __init__(self, bus: Bus, conductor: Conductor) -> None:
        self.bus = bus
        self.conductor = conductor
        self.state = conductor.state

    async def handle(self, event: Event, delivery: Delivery) -> None:
        if not event.deployment_id:
            return
        changed: list[Deployment] = []

        def change(d: Deployment) -> Deployment | None:
            changed.clear()
            new = apply(d, event)
            if new is not None:
                changed.append(new)
            return new

        try:
            dep = await self.state.deployments.update(event.deployment_id, change)
        except NotFound:
            log.warning("projection.unknown_deployment", deployment_id=event.deployment_id, type=event.type)
            return
        if isinstance(event, BuildFailed | DeployFailed):
            await self.bus.publish(
                DeploymentFailed(
                    deployment_id=dep.id,
                    app_id=dep.app_id,
                    server_id=dep.server_id,
                    commit=dep.commit,
                    image=dep.image,
                    reason=event.reason,
                    log_tail=list(event.log_tail),
                    stage=event.type.split(".")[0],
                    duration_s=_duration(dep),
                )
            )
        if isinstance(event, TERMINAL_EVENTS) and changed and dep.status.terminal:
            if dep.status is Status.SUCCEEDED:
                await self.state.set_current(dep.app_id, dep.id)
            line = f"deployment {dep.status.value}" + (f": {dep.error}" if dep.error else "")
            await logstream.append(self.bus, dep.id, "finish", line, final=True)
            await self.conductor.finish(dep)

    async def start(self) -> None:
        await self.bus.consume(
            stage="projection", subjects=[">"], stream="PIPELINE", handler=self.handle, concurrency=16
        )


def _duration(dep: Deployment) -> float | None:
    if dep.created_at is None:
        return None
    end = dep.finished_at or max((s.finished_at for s in dep.stages if s.finished_at), default=None)
    return (end - dep.created_at).total_seconds() if end else None
