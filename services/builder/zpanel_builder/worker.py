"""The builder stage: ``deployment.requested.<server>`` → an image, or a clear failure.

The source is checked out at the exact commit from a cached mirror, the build plan (the
repository's Dockerfile, or a detected one) is built with BuildKit, every line goes to the
deployment's log as it happens, and ``build.done`` carries the image. Rollbacks name an image
and skip the build. A request for the same commit and build configuration reuses the image, so a
redelivered request costs seconds, never a second build. ``control.cancel.<deployment>`` kills a
running build.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from typing import Any

import structlog

from zpanel import logstream, subjects
from zpanel.bus import Bus, Delivery, KeyLock
from zpanel.errors import PermanentError, RetryableError
from zpanel.events import BuildDone, BuildFailed, BuildStarted, DeploymentCancelled, DeploymentRequested, Event
from zpanel.models import Application, Deployment, Status
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.slots import Slots
from zpanel.state import State
from zpanel_builder import errors
from zpanel_builder.baseimages import BaseImages
from zpanel_builder.build import BuildSpec, image_ref
from zpanel_builder.buildkit import find_client
from zpanel_builder.checkout import SourceCache
from zpanel_builder.executor import DockerBuilder
from zpanel_builder.recipe import plan_build
from zpanel_builder.source import is_full_commit

log = structlog.get_logger("zpanel.builder")


class Cancelled(Exception):
    pass


class Builder:
    def __init__(self, bus: Bus, settings: Settings, builder: DockerBuilder, cipher: Cipher) -> None:
        self.bus = bus
        self.settings = settings
        self.state = State(bus)
        self.docker = builder
        self.cipher = cipher
        self.sources = SourceCache(settings.home / "git-cache")
        self.work = settings.home / "builds"
        self.images = BaseImages.from_env()
        self.slots = Slots(settings.build_concurrency)
        # a copy redelivered while the first still builds (its ack wait lapsed) waits for it, then
        # finds the image built: two copies at once would delete each other's build directory
        self.lock = KeyLock(bus, ttl=max(settings.ack_wait_s, 5.0))

    async def handle(self, event: Event, delivery: Delivery) -> None:
        if not isinstance(event, DeploymentRequested):
            return

        async def queued(ahead: int) -> None:
            text = f"waiting for a build slot ({ahead} ahead)"
            await logstream.append(self.bus, event.deployment_id, "build", text)

        # claimed at once, built in one of build_concurrency slots; the record is read once the
        # slot is ours, so a deployment cancelled or superseded while it queued is not built
        # the lease on the deployment is taken once the slot is ours: a claim costs nothing until
        # its build can run, and the lock is held only while it does
        async with self.slots.hold(queued), self.lock.hold(f"builder.{event.deployment_id}", delivery):
            await self._handle(event, delivery)

    async def _handle(self, event: DeploymentRequested, delivery: Delivery) -> None:
        dep = await self.state.deployments.get(event.deployment_id)
        if dep.status not in (Status.QUEUED, Status.BUILDING):
            return  # superseded or cancelled while it waited, or built by an earlier copy of this message
        ids = {"deployment_id": dep.id, "app_id": dep.app_id, "server_id": dep.server_id}
        if dep.cancel_requested:
            await self.bus.publish(DeploymentCancelled(**ids, commit=dep.commit, reason="cancelled before the build"))
            return
        app = dep.spec or await self.state.apps.get(dep.app_id)
        pump = logstream.LinePump(self.bus, dep.id, "build")
        try:
            await self._run(dep, app, event, ids, pump, delivery)
        finally:
            await pump.close()

    async def _run(
        self,
        dep: Deployment,
        app: Application,
        event: DeploymentRequested,
        ids: dict[str, str],
        pump: logstream.LinePump,
        delivery: Delivery,
    ) -> None:
        if event.image:
            await self._reuse(event.image, event, ids, pump)
            return
        await self.bus.publish(BuildStarted(**ids, commit=event.commit))
        started = time.monotonic()
        cancel = asyncio.Event()

        async def on_cancel(_msg: object) -> None:
            cancel.set()

        sub = await self.bus.nc.subscribe(subjects.cancel(dep.id), cb=on_cancel)
        task = asyncio.create_task(self._build(dep, app, event, pump))
        watcher = asyncio.create_task(_cancel_when(cancel, task))
        try:
            image, image_id, cached, commit = await task
        except asyncio.CancelledError:
            if asyncio.current_task() and asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise  # this worker is shutting down: the message is redelivered
            await self.bus.publish(DeploymentCancelled(**ids, commit=event.commit, reason="cancelled during the build"))
            return
        except errors.BuildFailed as exc:
            await self._failed(ids, event.commit, exc.reason, exc.tail or pump.tail)
            return
        except PermanentError as exc:
            await self._failed(ids, event.commit, str(exc), pump.tail)
            return
        except RetryableError as exc:
            if delivery.last_attempt:
                await self._failed(
                    ids, event.commit, f"{exc} (gave up after {delivery.num_delivered} attempts)", pump.tail
                )
                return
            raise
        finally:
            watcher.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            await sub.unsubscribe()
        pump.write(f"image {image} ({'reused' if cached else 'built'} in {time.monotonic() - started:.1f}s)")
        await self.bus.publish(
            BuildDone(
                **ids, commit=commit, image=image, digest=image_id, cached=cached, duration_s=time.monotonic() - started
            )
        )

    async def _build(
        self, dep: Deployment, app: Application, event: DeploymentRequested, pump: logstream.LinePump
    ) -> tuple[str, str, bool, str]:
        commit = event.commit or await self.sources.head_of(app.repo, app.branch, on_line=pump.write)
        dest = self.work / dep.id
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        pump.write(f"checking out {app.repo} at {commit[:12]}")
        # the image of this commit, if one exists, looked up while the checkout runs
        tagged = (
            asyncio.ensure_future(self.docker.tagged(image_ref(app.name, commit))) if is_full_commit(commit) else None
        )
        if tagged is not None:
            tagged.add_done_callback(_retrieved)  # an error of the lookup is the build's to raise, or nobody's
        try:
            checkout = await self.sources.checkout(
                app.repo, commit, dest, submodules=app.build.submodules, on_line=pump.write
            )
        except BaseException:
            if tagged is not None:
                tagged.cancel()
            raise
        try:
            build_vars = [v for v in app.env if v.build_time]
            args = {v.key: v.value for v in build_vars if not v.secret}
            secrets = {v.key: self.cipher.open(v.value) for v in build_vars if v.secret}
            recipe = plan_build(
                checkout.path,
                app.build,
                self.images,
                port=app.port,
                build_args=sorted(args),
                secrets=sorted(secrets),
            )
            pump.write(recipe.description)
            if recipe.kind == "generated":
                for line in recipe.dockerfile_text.splitlines():
                    pump.write(f"  | {line}")
            spec = BuildSpec(
                image=image_ref(app.name, checkout.commit),
                context=recipe.context,
                dockerfile_text=recipe.dockerfile_text,
                dockerfile=recipe.dockerfile,
                target=recipe.target,
                app_id=app.id,
                commit=checkout.commit,
                deployment_id=dep.id,
                args={**app.build.args, **args},
                secret_names=tuple(sorted(secrets)),
            )
            early = tagged if tagged is not None and spec.image == image_ref(app.name, commit) else None
            result = await self.docker.build(spec, secrets=secrets, on_line=pump.write, tagged=early)
            return result.image, result.image_id, result.cached, checkout.commit
        finally:
            if tagged is not None:
                tagged.cancel()  # unless done
            await SourceCache.remove(checkout)

    async def _reuse(
        self, image: str, event: DeploymentRequested, ids: dict[str, str], pump: logstream.LinePump
    ) -> None:
        await self.bus.publish(BuildStarted(**ids, commit=event.commit))
        inspect = await asyncio.create_subprocess_exec(
            self.docker.client.path,
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            image,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await inspect.communicate()
        if inspect.returncode != 0:
            await self._failed(
                ids, event.commit, f"image {image} is gone from this machine: deploy the commit again to rebuild it", []
            )
            return
        pump.write(f"rollback: reusing image {image}, no build")
        await self.bus.publish(
            BuildDone(**ids, commit=event.commit, image=image, digest=out.decode().strip(), cached=True)
        )

    async def _failed(self, ids: dict[str, str], commit: str | None, reason: str, tail: list[str]) -> None:
        log.warning("build.failed", reason=reason)
        await logstream.append(self.bus, ids["deployment_id"], "build", f"build failed: {reason}")
        await self.bus.publish(BuildFailed(**ids, commit=commit, reason=reason, log_tail=tail[-20:]))


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def _cancel_when(cancel: asyncio.Event, task: asyncio.Task[tuple[str, str, bool, str]]) -> None:
    await cancel.wait()
    task.cancel()


async def setup(bus: Bus, settings: Settings) -> Builder:
    client, notes = await find_client()
    for note in notes:
        log.info("builder.docker_client_skipped", note=note)
    builder = Builder(bus, settings, DockerBuilder(client), Cipher.from_home(settings.home, settings.secret_key))
    await bus.consume(
        stage="builder",
        subjects=[subjects.stage("deployment.requested", "*")],
        stream="PIPELINE",
        handler=builder.handle,
        concurrency=settings.build_claims,  # claims; builds run in self.slots, under self.lock
    )
    return builder
