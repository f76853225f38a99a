"""Walks a plan on a server: the executor of the strategies' steps.

With ``hooks`` the walk does everything in-process (health checks and proxy switches through the
hooks). Without them it stops at the first step only another stage can do (``WaitHealthy``,
``Switch``) and returns how far it got; the caller hands off to health / proxy-sync and resumes
later with ``walk(..., start=plan.after_switch(batch))``. Every step converges, so walking a plan again
from an earlier step after a crash is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from zpanel.models import ContainerRef
from zpanel.remote.errors import CommandError
from zpanel_deployer.deploy import Deployer
from zpanel_deployer.errors import StepFailedError
from zpanel_deployer.request import DeployRequest
from zpanel_deployer.strategies import steps as S


class Hooks(Protocol):
    async def wait_healthy(self, containers: list[ContainerRef]) -> None:
        """Return when all are healthy; raise (any exception) when one will not be."""
        ...

    async def switch(self, containers: list[ContainerRef]) -> None:
        """Make the proxy send the app's traffic to exactly these containers."""
        ...


@dataclass
class Progress:
    plan: S.Plan
    reached: int  # steps[:reached] are done
    containers: list[ContainerRef] = field(default_factory=list)  # the new ones, in replica order
    output: list[str] = field(default_factory=list)  # pre/post-deploy output, redacted
    started: dict[str, ContainerRef] = field(default_factory=dict)  # read back by StartNew, by name
    warnings: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.reached >= len(self.plan.steps)

    @property
    def waiting_for(self) -> S.Step | None:
        return None if self.done else self.plan.steps[self.reached]


class PlanStepError(StepFailedError):
    """Step ``index`` failed; roll back with ``rollback(..., reached=index + 1)``. ``cause`` is the
    original error (a RetryableError when the server was unreachable, say)."""

    def __init__(self, index: int, step: S.Step, cause: BaseException) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.index = index
        self.step = step
        self.cause = cause
        self.rollback: RollbackReport | None = None  # set by deploy() once it rolled back


Sleep = Callable[[float], Awaitable[None]]


async def walk(
    deployer: Deployer,
    plan: S.Plan,
    req: DeployRequest,
    hooks: Hooks | None = None,
    *,
    start: int = 0,
    sleep: Sleep = asyncio.sleep,
) -> Progress:
    progress = Progress(plan, start)
    for index in range(start, len(plan.steps)):
        step = plan.steps[index]
        if isinstance(step, S.EXTERNAL) and hooks is None:
            break
        try:
            await _do(deployer, req, step, hooks, progress, sleep)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise PlanStepError(index, step, exc) from exc
        progress.reached = index + 1
    if all(name in progress.started for name in plan.new):
        # each was read back as it started: no second inspect of the same containers
        progress.containers = [progress.started[name] for name in plan.new]
    else:
        progress.containers = await deployer.refs(req, plan.new)
    return progress


async def _do(
    d: Deployer, req: DeployRequest, step: S.Step, hooks: Hooks | None, progress: Progress, sleep: Sleep
) -> None:
    match step:
        case S.PreDeploy(command):
            progress.output += await d.pre_deploy(req, command)
        case S.StartNew(replica, _name):
            ref = await d.ensure_replica(req, replica)
            progress.started[ref.name] = ref
        case S.WaitHealthy(names):
            assert hooks is not None
            await hooks.wait_healthy(await _refs(d, req, names))
        case S.Switch(names):
            assert hooks is not None
            await hooks.switch(await _refs(d, req, names))
        case S.Drain(names, seconds):
            await d.drain(names, seconds, sleep=sleep)
        case S.StopOld(names):
            await d.stop(names)
        case S.StartOld(names):
            await d.start(names)
        case S.RemoveOld(names) | S.RemoveNew(names):
            await d.remove(names)
        case S.PostDeploy(command, name):
            try:
                progress.output += await d.post_deploy(req, name, command)
            except CommandError as exc:
                # the new version already serves: a failed post-deploy command is reported, not undone
                progress.warnings.append(f"post-deployment command failed: {exc}")


async def _refs(d: Deployer, req: DeployRequest, names: Sequence[str]) -> list[ContainerRef]:
    refs = await d.refs(req, names)
    missing = set(names) - {r.name for r in refs}
    if missing:
        raise StepFailedError(f"container(s) {', '.join(sorted(missing))} vanished during the deployment")
    return refs


@dataclass
class RollbackReport:
    removed: list[str]
    restarted: list[str]
    logs: dict[str, list[str]]  # last log lines of each removed new container, redacted
    switch_back: list[str]  # names the proxy must target again (done by hooks when given)


async def rollback(
    deployer: Deployer, plan: S.Plan, req: DeployRequest, reached: int, hooks: Hooks | None = None
) -> RollbackReport:
    """Undo ``plan.steps[:reached]``: the old version serves again, the new containers are gone
    (their last log lines kept for the user). Safe to call twice."""
    undo = plan.rollback(reached)
    logs: dict[str, list[str]] = {}
    report = RollbackReport([], [], logs, [])
    for step in undo:
        match step:
            case S.StartOld(names):
                await deployer.start(names)
                report.restarted += names
            case S.Switch(names):
                report.switch_back = list(names)
                if hooks is not None:
                    await hooks.switch(await deployer.refs(req, names))
            case S.RemoveNew(names):
                # a rolling update undone part-way never started its later replicas
                present = {r.name for r in await deployer.refs(req, names)}
                for name in names:
                    if name in present:
                        logs[name] = await deployer.last_logs(req, name)
                report.removed += [n for n in names if n in present]
    # whatever this deployment started, even beyond ``reached`` (a half-done step, a crash)
    leftovers = await deployer.remove_deployment(req)
    report.removed = sorted(set(report.removed) | set(leftovers))
    return report


async def deploy(
    deployer: Deployer,
    req: DeployRequest,
    hooks: Hooks,
    *,
    previous: Sequence[ContainerRef] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Progress:
    """The whole deployment in-process: prepare, plan, walk; on a failed step roll back what was
    done and raise the step's error (carrying the rollback report as ``.rollback``)."""
    await deployer.prepare(req)
    plan = await deployer.plan(req, previous)
    try:
        return await walk(deployer, plan, req, hooks, sleep=sleep)
    except PlanStepError as exc:
        exc.rollback = await rollback(deployer, plan, req, exc.index + 1, hooks)
        raise
