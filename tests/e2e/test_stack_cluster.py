"""The stack on a 3-node NATS cluster (``ZPANEL_NATS_URL`` with the three URLs, every stream and
bucket at 3 replicas): the supervisor runs no NATS of its own, and killing the node that leads the
pipeline stream in the middle of 20 deployments loses none of them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from tests.e2e.apps import site
from tests.e2e.observe import run_async
from tests.e2e.receiver import Receiver, parsed
from tests.e2e.stack import Stack, containers, new_app, running_stack, until
from tests.harness import nats as natsh

pytestmark = [pytest.mark.xdist_group("e2e-stack"), pytest.mark.docker, pytest.mark.slow]

DEPLOYMENTS = 20


def stream_leader(urls: str, stream: str) -> tuple[int, str]:
    """(replicas, the name of the node that leads ``stream``)."""

    async def ask() -> tuple[int, str]:
        nc = await nats.connect(servers=urls.split(","), connect_timeout=5)
        try:
            info = await nc.jetstream(timeout=5).stream_info(stream)
        finally:
            await nc.close()
        assert info.cluster is not None and info.cluster.leader
        return info.config.num_replicas or 1, info.cluster.leader

    return run_async(ask)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[natsh.NatsCluster]:
    nodes = natsh.cluster(tmp_path_factory.mktemp("nats-cluster"))
    yield nodes
    nodes.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, busybox_image: str, cluster: natsh.NatsCluster) -> Iterator[Stack]:
    urls = ",".join(cluster.urls)
    with running_stack(tmp_path_factory.mktemp("zhome"), ZPANEL_NATS_URL=urls, ZPANEL_STREAM_REPLICAS="3") as s:
        yield s


@pytest.mark.timeout(400)
def test_a_node_killed_during_twenty_deployments_loses_none(
    stack: Stack, cluster: natsh.NatsCluster, notes: Receiver, tmp_path: Path
) -> None:
    urls = ",".join(cluster.urls)
    assert stack.doc["nats_url"] == urls
    assert "nats" not in stack.processes()  # the cluster is the stack's NATS: nothing embedded
    replicas, leader = stream_leader(urls, "PIPELINE")
    assert replicas == 3

    apps = [new_app(stack, notes, tmp_path, f"cluster{i}") for i in range(DEPLOYMENTS)]
    ids = [stack.push(app, remote, site(app["name"]), "one of twenty") for app, remote in apps]

    def finished() -> int:
        return sum(stack.deployment(i)["status"] == "succeeded" for i in ids)

    until("the first deployments to succeed", lambda: finished() >= 3, 120, 0.1)
    victim = next(n for n in cluster.nodes if n.name == leader)
    victim.kill()
    in_flight = DEPLOYMENTS - finished()
    assert in_flight > 0, "every deployment finished before the node died: nothing was tested"

    started = time.monotonic()
    deps = [stack.wait_done(i, timeout=max(30.0, 300 - (time.monotonic() - started))) for i in ids]
    assert [(d["id"], d["status"], d["error"]) for d in deps] == [(i, "succeeded", None) for i in ids]
    for (app, _), dep_id in zip(apps, ids, strict=True):
        assert containers("zpanel.app", app["id"]) == containers("zpanel.deployment", dep_id)
        assert len(containers("zpanel.deployment", dep_id)) == 1
        page = stack.page(app["domains"][0])
        assert (page.text, page.headers["X-Zpanel-Deployment"]) == (f"hello from {app['name']}\n", dep_id)
        assert [(parsed(a)["event"], parsed(a)["deployment_id"]) for a in notes.wait(app["name"])] == [
            ("deployment.succeeded", dep_id)
        ]
    survivors = [n.url for n in cluster.nodes if n is not victim]
    assert stream_leader(",".join(survivors), "PIPELINE")[1] != leader
