"""A 3-node JetStream cluster with 3 replicas keeps working when one node is killed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.harness import nats as natsh
from tests.shared.conftest import fast_settings
from zpanel.bus import Bus, Delivery
from zpanel.events import BuildDone, Event


async def test_one_node_killed_nothing_lost(tmp_path: Path) -> None:
    cluster = natsh.cluster(tmp_path)
    bus = None
    try:
        settings = fast_settings(",".join(cluster.urls), stream_replicas=3)
        bus = await Bus.connect(settings, name="cluster-test")
        for _ in range(100):  # the meta leader needs a moment after the nodes meet
            try:
                await bus.provision()
                break
            except Exception:
                await asyncio.sleep(0.2)
        info = await bus.js.stream_info("PIPELINE")
        assert info.config.num_replicas == 3
        # replicated buckets keep leader reads: a follower could answer a direct get from behind
        assert not (await bus.js.stream_info("KV_deployments")).config.allow_direct
        got: set[str] = set()

        async def handler(event: Event, delivery: Delivery) -> None:
            got.add(event.deployment_id or "")

        await bus.consume(stage="clu", subjects=["build.done.c1"], handler=handler, concurrency=4)
        for i in range(60):
            if i == 20:
                cluster.nodes[0].kill()
            await bus.publish(BuildDone(deployment_id=f"d{i}", app_id="a", server_id="c1", image="i"))
        for _ in range(300):
            if len(got) == 60:
                break
            await asyncio.sleep(0.1)
        assert got == {f"d{i}" for i in range(60)}
    finally:
        if bus:
            await bus.close()
        cluster.stop()
