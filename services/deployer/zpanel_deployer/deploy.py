"""Container operations for one deployment on one server, each converging (safe to repeat after a
crash or a redelivered message). The order of operations is the plan's business (see walker)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from zpanel.models import ContainerRef
from zpanel.remote.base import Executor
from zpanel.remote.errors import CommandError
from zpanel_deployer import drain as drain_check
from zpanel_deployer import labels as L
from zpanel_deployer import retention
from zpanel_deployer.commands import compose, docker
from zpanel_deployer.containers import ContainerInfo, parse_image_ls, parse_inspect
from zpanel_deployer.errors import PreDeployError
from zpanel_deployer.request import DeployRequest, Placement
from zpanel_deployer.strategies import plan_for
from zpanel_deployer.strategies.steps import Plan

DRAIN_SETTLE_S = 0.05
"""Before the first count: a request the proxy routed to the old version just before the switch
has connected by then (the switch was verified before the deployer got here)."""
DRAIN_POLL_S = 0.05
UNREADABLE_DRAIN_S = 2.0
"""When a server's /proc does not show the old containers' connections: a fixed grace instead."""

Log = Callable[[str], None]
MISSING = ("No such container", "no such container")
GOING = "is already in progress"  # "removal of container X is already in progress": its --rm, say
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # a label value about to become a path


@dataclass(frozen=True)
class Pruned:
    containers: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Deployer:
    def __init__(
        self,
        executor: Executor,
        placement: Placement | None = None,
        log: Log | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ex = executor
        self.placement = placement or Placement()
        self.log: Log = log or (lambda _line: None)
        self.clock = clock

    # --- reading -------------------------------------------------------------------------

    async def containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        ids = (await self.ex.run(docker.ps(labels))).out.split()
        return await self.inspect(*ids) if ids else []

    async def inspect(self, *names: str) -> list[ContainerInfo]:
        """Details of the containers that exist among ``names`` (missing ones are left out)."""
        result = await self.ex.run(docker.inspect(*names), check=False)
        if not result.ok and not all(any(m in line for m in MISSING) for line in result.err.splitlines() if line):
            raise CommandError(self.ex.server, result.argv, result.returncode, result.err)
        return parse_inspect(result.out)

    async def refs(self, req: DeployRequest, names: Sequence[str]) -> list[ContainerRef]:
        by_name = {c.name: c for c in await self.inspect(*names)} if names else {}
        return [by_name[n].ref(req.app.port, self.placement.network) for n in names if n in by_name]

    async def live(self, req: DeployRequest) -> list[ContainerRef]:
        """The app's running containers other than this deployment's: the version serving now."""
        found = await self.containers({L.APP: req.app.id, L.ROLE: L.ROLE_APP})
        return [
            c.ref(req.app.port, self.placement.network)
            for c in found
            if c.running and c.deployment != req.deployment_id
        ]

    async def plan(
        self, req: DeployRequest, previous: Sequence[ContainerRef] | None = None, drain_s: float | None = None
    ) -> Plan:
        """``previous``: the live containers recorded when the deployment started (pass them when
        resuming, so the plan is the one begun with); read from the server when not given."""
        live = list(previous) if previous is not None else await self.live(req)
        return plan_for(req.app, req.deployment_id, live, req.image, drain_s=drain_s)

    async def last_logs(self, req: DeployRequest, name: str) -> list[str]:
        result = await self.ex.run(docker.logs(name, self.placement.log_tail), check=False)
        return [req.redact(line) for line in (result.out + result.err).splitlines()][-self.placement.log_tail :]

    # --- preparing -----------------------------------------------------------------------

    def spec(self, req: DeployRequest, replica: int | None, name: str) -> docker.ContainerSpec:
        p = self.placement
        role = L.ROLE_APP if replica is not None else L.ROLE_PREDEPLOY
        labels = L.zpanel_labels(
            app_id=req.app.id,
            app_name=req.app.name,
            deployment_id=req.deployment_id,
            commit=req.commit,
            replica=replica,
            role=role,
        )
        if replica is not None:
            labels |= L.traefik_labels(
                app_id=req.app.id,
                domains=req.app.domains,
                port=req.app.port,
                network=p.network,
                certresolver=p.certresolver,
            )
        labels |= dict(req.extra_labels)
        publish = (docker.Publish(req.app.port, None, p.publish_ip),) if p.publish_ip and replica is not None else ()
        return docker.ContainerSpec(
            name=name,
            image=req.image,
            labels=labels,
            env_file=f"{req.directory(p.root)}/.env",
            publish=publish,
            network=p.network,
            aliases=(req.app.name,) if p.network and replica is not None else (),
            volumes=(*p.volumes, *req.app.docker_volumes()),
            limits=docker.Limits(
                memory=req.app.memory or p.limits.memory,
                cpus=req.app.cpus if req.app.cpus is not None else p.limits.cpus,
                pids=p.limits.pids,
            ),
        )

    def replica_specs(self, req: DeployRequest) -> list[docker.ContainerSpec]:
        return [
            self.spec(req, r, docker.container_name(req.app.name, req.deployment_id, r))
            for r in range(req.app.replicas)
        ]

    async def prepare(self, req: DeployRequest) -> None:
        """The apps' network, then the env file (0600) and the Compose document an operator can
        read and reproduce, under ``<root>/<app>/<deployment>/``."""
        if self.placement.network:
            await self.ensure_network(self.placement.network)
        folder = req.directory(self.placement.root)
        await self.ex.write_file(f"{folder}/.env", compose.env_file(dict(req.env)).encode(), 0o600)
        doc = compose.document(f"{req.app.name}-{req.deployment_id[:12]}", self.replica_specs(req))
        await self.ex.write_file(f"{folder}/compose.yaml", compose.render(doc).encode(), 0o644)

    async def ensure_network(self, name: str) -> None:
        if (await self.ex.run(docker.network_inspect(name), check=False)).ok:
            return
        created = await self.ex.run(docker.network_create(name), check=False)
        if not created.ok and "already exists" not in created.err:
            raise CommandError(self.ex.server, created.argv, created.returncode, created.err)

    # --- changing ------------------------------------------------------------------------

    async def ensure_replica(self, req: DeployRequest, replica: int) -> ContainerRef:
        """Exactly one container per (deployment, replica): reuse the one a previous delivery of
        this deployment made, or start it. Docker refuses a second container of the same name, so
        two deliveries racing still end with one."""
        name = docker.container_name(req.app.name, req.deployment_id, replica)
        spec = self.spec(req, replica, name)
        for _ in range(3):
            found = await self.containers(
                {L.DEPLOYMENT: req.deployment_id, L.REPLICA: str(replica), L.ROLE: L.ROLE_APP}
            )
            if found:
                keep = next((c for c in found if c.name == name), found[0])
                extra = [c.name for c in found if c is not keep]
                if extra:
                    await self.remove(extra)
                if not keep.running:
                    self.log(f"starting existing container {keep.name}")
                    await self.ex.run(docker.start(keep.name))
                    keep = (await self.inspect(keep.name))[0]
                else:
                    self.log(f"container {keep.name} already runs for this deployment: reusing it")
                return keep.ref(req.app.port, self.placement.network)
            self.log(f"starting container {name} from {req.image}")
            result = await self.ex.run(docker.run(spec), check=False)
            if result.ok:
                started = await self.inspect(name)
                if started:
                    return started[0].ref(req.app.port, self.placement.network)
                continue  # gone at once (removed by a racing delivery?): look again
            if "is already in use" not in result.err:
                raise CommandError(self.ex.server, result.argv, result.returncode, req.redact(result.err))
        raise CommandError(self.ex.server, docker.run(spec), None, f"container {name} keeps disappearing")

    async def pre_deploy(self, req: DeployRequest, command: str) -> list[str]:
        """Run ``command`` in a one-off container of the new image; nothing else has changed yet."""
        name = docker.predeploy_name(req.app.name, req.deployment_id)
        await self.remove([name])  # a leftover of a crashed attempt
        self.log("running the pre-deployment command")
        result = await self.ex.run(
            docker.one_off(self.spec(req, None, name), command), check=False, timeout=self.placement.predeploy_timeout
        )
        output = [req.redact(line) for line in (result.out + result.err).splitlines()]
        if not result.ok:
            raise PreDeployError(command, result.returncode, output[-self.placement.log_tail :])
        return output

    async def post_deploy(self, req: DeployRequest, name: str, command: str) -> list[str]:
        result = await self.ex.run(docker.exec_(name, ["sh", "-c", command]), check=False)
        output = [req.redact(line) for line in (result.out + result.err).splitlines()]
        if not result.ok:
            raise CommandError(self.ex.server, ["docker", "exec", name], result.returncode, "\n".join(output))
        return output

    async def _tolerant(self, argv: list[str]) -> bool:
        """Run a stop/rm where a container already gone, or already being removed, is success
        (convergence); True when one was still being removed."""
        result = await self.ex.run(argv, check=False)
        lines = [line for line in result.err.splitlines() if line.strip()]
        errors = [line for line in lines if not any(m in line for m in (*MISSING, GOING))]
        if not result.ok and errors:
            raise CommandError(self.ex.server, argv, result.returncode, "\n".join(errors))
        return any(GOING in line for line in lines)

    async def drain(
        self, names: Sequence[str], timeout: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> drain_check.Drained:
        """Return once the (no longer routed) containers hold no inbound connection, or after
        ``timeout``: their requests in flight finish before they are stopped. Read on the server
        through the executor (``/proc/<pid>/net/tcp*`` of each container), so the same on
        ``local`` and over SSH; an idle version is retired at once."""
        if not names:
            return drain_check.Drained(0.0, 0)
        found = await self.ex.run(
            [docker.DOCKER, "inspect", "--type", "container", "--format", "{{.State.Pid}}", *names], check=False
        )
        pids = drain_check.parse_pids(found.out)
        if not pids:
            return drain_check.Drained(0.0, 0)

        async def count() -> int:
            result = await self.ex.run(drain_check.inbound_argv(pids), check=False, timeout=30)
            return drain_check.inbound(result.out)

        listed = ", ".join(names)
        try:
            drained = await drain_check.wait_drained(
                count, timeout=timeout, settle=DRAIN_SETTLE_S, interval=DRAIN_POLL_S, clock=self.clock, sleep=sleep
            )
        except drain_check.Unreadable as exc:
            grace = min(timeout, UNREADABLE_DRAIN_S)
            self.log(f"{exc}: giving {listed} {grace:g}s to finish their requests")
            await sleep(grace)
            return drain_check.Drained(grace, 0)
        if drained.remaining:
            self.log(f"{listed}: {drained.remaining} connection(s) still open after {timeout:g}s; stopping anyway")
        else:
            self.log(f"{listed} drained in {drained.waited:.2f}s")
        return drained

    async def stop(self, names: Sequence[str]) -> None:
        if names:
            self.log(f"stopping {', '.join(names)}")
            await self._tolerant(docker.stop(*names, timeout=self.placement.stop_timeout))

    async def start(self, names: Sequence[str]) -> None:
        if names:
            self.log(f"starting {', '.join(names)} again")
            await self.ex.run(docker.start(*names))

    async def remove(self, names: Sequence[str], sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """Remove the containers; return once they are gone (a removal already under way, such as
        the --rm of a one-off whose deployer was killed, is waited for: the name is free after)."""
        if not names:
            return
        self.log(f"removing {', '.join(names)}")
        if not await self._tolerant(docker.rm(*names)):
            return
        for _ in range(200):
            if not await self.inspect(*names):
                return
            await sleep(0.05)
        raise CommandError(
            self.ex.server, docker.rm(*names), None, f"{', '.join(names)} still being removed after 10 s"
        )

    async def remove_deployment(self, req: DeployRequest) -> list[str]:
        """Every container of this deployment (rollback of the new version)."""
        found = await self.containers({L.DEPLOYMENT: req.deployment_id, L.APP: req.app.id})
        await self.remove([c.name for c in found])
        return [c.name for c in found]

    async def prune(
        self,
        req: DeployRequest,
        keep: int | None = None,
        protect_deployments: Sequence[str] = (),
        protect_images: Sequence[str] = (),
        recent_images: Sequence[str] = (),
    ) -> Pruned:
        """Keep the newest ``keep`` (default: the app's ``keep_images``) deployments' containers and
        images, never this deployment's nor the rollback target's (pass it in ``protect_*``).
        ``recent_images``: images of the app's latest deployments, newest first."""
        keep = keep or req.app.keep_images
        every = await self.containers({L.APP: req.app.id})
        doomed = retention.containers_to_remove(every, keep, {req.deployment_id, *protect_deployments})
        await self.remove([c.name for c in doomed])
        gone = {c.id for c in doomed}
        in_use = {x for c in every if c.id not in gone for x in (c.image, c.image_id)}
        listed = await self.ex.run(docker.image_ls(retention.repository(req.image)))
        refs = retention.images_to_remove(
            parse_image_ls(listed.out), keep, {req.image, *protect_images, *in_use}, recent_images
        )
        warnings, removed = [], []
        for ref in refs:
            result = await self.ex.run(docker.image_rm(ref), check=False)
            if result.ok:
                removed.append(ref)
            else:
                warnings.append(f"image {ref} kept: {result.err.strip().splitlines()[-1:] or 'unknown error'}")
        for deployment in sorted({c.deployment for c in doomed if SAFE_ID.match(c.deployment)}):
            await self.ex.run(["rm", "-rf", "--", f"{self.placement.root.rstrip('/')}/{req.app.name}/{deployment}"])
        if removed or doomed:
            self.log(f"pruned {len(doomed)} container(s), {len(removed)} image(s)")
        return Pruned([c.name for c in doomed], removed, warnings)
