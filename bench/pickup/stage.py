"""One pipeline stage of bench/pickup, as its own process: the service's real consumer (same
stage name, subjects, per-server durable consumers and claims as its ``worker.setup``) with a
trivial handler that notes when it started, takes a work slot where the real stage does (builder:
``build_concurrency`` per process, then its lease lock on the deployment; deployer:
``deploy_concurrency`` per server), and publishes what
the real stage publishes on success, so the next stage picks it up.

    .venv/bin/python bench/pickup/stage.py STAGE OUT.json [WORK_S]   (ZPANEL_NATS_URL set; run.py does it)

On SIGTERM it writes ``[[event type, publish → handler start, wait for a work slot, stream stored →
handler start], ...]`` (seconds) to OUT.json.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zpanel import subjects
from zpanel.bus import Bus, Delivery, KeyLock
from zpanel.events import (
    BuildDone,
    BuildStarted,
    DeployDone,
    DeploymentSucceeded,
    DeployStarted,
    Event,
    HealthPassed,
    ProxyUpdated,
)
from zpanel.models import ContainerRef
from zpanel.settings import load
from zpanel.slots import Slots, SlotsPer
from zpanel.telemetry import configure
from zpanel_deployer.worker import HANDLED as DEPLOYER_HANDLED
from zpanel_notifier.messages import NOTIFIABLE

WORK_S = 0.0  # seconds of pretend work per handler (argv[3]); 0: pure bus machinery


def ids(event: Event) -> dict[str, Any]:
    return {"deployment_id": event.deployment_id, "app_id": event.app_id, "server_id": event.server_id}


def container(event: Event) -> list[ContainerRef]:
    return [ContainerRef(id=f"c-{event.deployment_id}", name=f"bench-{event.deployment_id}", address="127.0.0.1:1")]


async def next_events(stage: str, event: Event) -> list[Callable[[], Event]]:
    """What the real stage publishes when its work succeeds, each made just before its publish (as
    the services do: ``build.done`` exists once ``build.started`` is out and the build is over)."""
    if WORK_S:
        await asyncio.sleep(WORK_S)
    if stage == "builder":
        return [lambda: BuildStarted(**ids(event)), lambda: BuildDone(**ids(event), image="bench:1")]
    if stage == "deployer" and event.type == "build.done":
        return [
            lambda: DeployStarted(**ids(event), image="bench:1"),
            lambda: DeployDone(**ids(event), image="bench:1", containers=container(event)),
        ]
    if stage == "deployer" and event.type == "proxy.updated":
        return [lambda: DeploymentSucceeded(**ids(event), image="bench:1")]
    if stage == "health":
        return [lambda: HealthPassed(**ids(event), containers=container(event), probes=1)]
    if stage == "proxy":
        return [lambda: ProxyUpdated(**ids(event), domains=["bench.localhost"], upstreams=["127.0.0.1:1"])]
    return []  # the notifier


async def main(stage: str, out: Path) -> None:
    settings = load()
    configure(f"bench-{stage}", settings.log_format, settings.log_level)  # as zpanel.service.run does
    bus = await Bus.connect(settings, name=f"bench-{stage}")
    seen: list[tuple[str, float, float, float]] = []
    build_slots = Slots(settings.build_concurrency)
    deploy_slots = SlotsPer(settings.deploy_concurrency)
    lock = KeyLock(bus, ttl=max(settings.ack_wait_s, 5.0))

    def slots_for(event: Event) -> Slots | None:
        """Where the real stage runs its heavy work (builder: every request; deployer: the steps)."""
        if stage == "builder":
            return build_slots
        if stage == "deployer" and event.server_id:
            return deploy_slots[event.server_id]
        return None

    async def handle(event: Event, delivery: Delivery) -> None:
        now = time.time()
        picked = now - event.timestamp.timestamp()
        # of it, the consumer's side: the stream stored the message → this handler started
        stored = now - delivery._msg.metadata.timestamp.timestamp()
        slots = slots_for(event)
        waited = 0.0
        if slots is None:
            nxt = await next_events(stage, event)
        elif stage == "builder":  # the real builder takes its lease on the deployment once the slot is free
            async with slots.hold() as waited:
                t = time.monotonic()
                async with lock.hold(f"builder.{event.deployment_id}", delivery):
                    waited += time.monotonic() - t
                    nxt = await next_events(stage, event)
        else:
            async with slots.hold() as waited:
                nxt = await next_events(stage, event)
        seen.append((event.type, picked, waited, stored))
        for make in nxt:
            await bus.publish(make())

    # the same consumers as each service's worker.setup (see README.md)
    if stage == "builder":
        await bus.consume(
            stage="builder",
            subjects=[subjects.stage("deployment.requested", "*")],
            stream="PIPELINE",
            handler=handle,
            concurrency=settings.build_claims,
        )
    elif stage == "deployer":
        per = await bus.consume_per_server(
            stage="deployer", event_types=DEPLOYER_HANDLED, handler=handle, concurrency=settings.deploy_claims
        )
    elif stage == "health":
        per = await bus.consume_per_server(
            stage="health", event_types=["deploy.done"], handler=handle, concurrency=settings.stage_claims
        )
    elif stage == "proxy":
        per = await bus.consume_per_server(
            stage="proxy", event_types=["health.passed"], handler=handle, concurrency=settings.stage_claims
        )
    elif stage == "notifier":
        await bus.consume(
            stage="notifier",
            subjects=[subjects.stage(t, "*") for t in NOTIFIABLE],
            stream="PIPELINE",
            handler=handle,
            concurrency=settings.stage_claims,
        )
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    if stage in ("deployer", "health", "proxy"):
        while "local" not in per.consumers:  # the per-server consumer follows the servers bucket
            await asyncio.sleep(0.02)
    print("ready", flush=True)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    await done.wait()
    out.write_text(json.dumps(seen))
    await bus.close()


if __name__ == "__main__":
    if len(sys.argv) > 3:
        WORK_S = float(sys.argv[3])
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
