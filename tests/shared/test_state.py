"""KV-backed records: CAS updates under concurrency, one active deployment per app, supersede."""

from __future__ import annotations

import asyncio

import pytest

from tests.shared.conftest import MakeBus
from zpanel.bus.provision import _direct_reads
from zpanel.errors import Conflict, NotFound
from zpanel.models import Application, Deployment, Status
from zpanel.state import State


def app(uid: str, name: str = "shop") -> Application:
    return Application(id=f"app{uid}", name=f"{name}-{uid}", repo="https://x/y.git", server="local")


async def test_app_names_are_unique_and_resolvable(make_bus: MakeBus, uid: str) -> None:
    state = State(await make_bus())
    created = await state.create_app(app(uid))
    assert (await state.app(created.name)).id == created.id
    assert (await state.app(created.id)).name == created.name
    with pytest.raises(Conflict, match="exists already; pick another name"):
        await state.create_app(app(uid).model_copy(update={"id": f"other{uid}"}))
    with pytest.raises(NotFound, match="`zpanel app list` shows them"):
        await state.app(f"missing-{uid}")


async def test_concurrent_cas_updates_lose_nothing(make_bus: MakeBus, uid: str) -> None:
    states = [State(await make_bus()) for _ in range(3)]
    dep = Deployment(id=f"d{uid}", app_id=f"a{uid}", app_name="a", server_id="local")
    await states[0].create_deployment(dep)

    def add_stage_line(i: int):  # type: ignore[no-untyped-def]
        def change(d: Deployment) -> Deployment:
            d.containers = [*d.containers]
            d.error = (d.error or "") + f"{i},"
            return d

        return change

    await asyncio.gather(*(states[i % 3].deployments.update(dep.id, add_stage_line(i)) for i in range(30)))
    final = await states[0].deployments.get(dep.id)
    assert sorted(int(x) for x in (final.error or "").strip(",").split(",")) == list(range(30))


async def test_one_active_deployment_and_newer_supersedes_pending(make_bus: MakeBus, uid: str) -> None:
    state = State(await make_bus())
    a = f"app{uid}"
    assert await state.claim_active(a, "d1") is True
    assert await state.claim_active(a, "d1") is True  # idempotent for its holder
    assert await state.claim_active(a, "d2") is False
    assert await state.swap_pending(a, "d2") is None
    assert await state.swap_pending(a, "d3") == "d2"  # d2 is now superseded by d3
    assert await state.release_active(a, "d2") is False  # not the holder
    assert await state.release_active(a, "d1") is True
    assert await state.take_pending(a) == "d3"
    assert await state.take_pending(a) is None
    assert await state.claim_active(a, "d3") is True
    assert await state.active(a) == "d3"


async def test_list_an_apps_deployments_newest_first(make_bus: MakeBus, uid: str) -> None:
    state = State(await make_bus())
    for i in range(3):
        await state.create_deployment(
            Deployment(id=f"d{i}{uid}", app_id=f"a{uid}", app_name="a", server_id="local", status=Status.QUEUED)
        )
    await state.create_deployment(Deployment(id=f"x{uid}", app_id=f"b{uid}", app_name="b", server_id="local"))
    listed = await state.app_deployments(f"a{uid}")
    assert [d.id for d in listed] == [f"d2{uid}", f"d1{uid}", f"d0{uid}"]


async def test_single_replica_buckets_are_read_directly(make_bus: MakeBus, uid: str) -> None:
    """Provisioned buckets answer ``DIRECT.GET`` (raw message, no JSON/base64/email-header parsing);
    a bucket made before (without it) is switched on the next start, and its records still read."""
    bus = await make_bus()
    assert (await bus.js.stream_info("KV_deployments")).config.allow_direct
    old = await bus.js.create_key_value(bucket=f"old{uid}", history=1)  # nats-py's default: no direct reads
    await old.put("k", b"v1")
    assert not (await bus.js.stream_info(f"KV_old{uid}")).config.allow_direct
    await _direct_reads(bus.js, (await bus.js.stream_info(f"KV_old{uid}")).config)
    assert (await bus.js.stream_info(f"KV_old{uid}")).config.allow_direct
    reopened = await bus.js.key_value(f"old{uid}")
    assert (await reopened.get("k")).value == b"v1"
    await bus.js.delete_key_value(f"old{uid}")


async def test_keys_nothing_can_be_stored_under_are_simply_not_found(make_bus: MakeBus) -> None:
    """Direct gets put the key in the request subject: a newline or space there must not become a
    transport error (the API fuzzer found ``/deployments/D%0A/cancel`` answering 500)."""
    state = State(await make_bus())
    for key in ("D\n", "a b", "é", ""):
        with pytest.raises(NotFound):
            await state.deployments.get(key)
        with pytest.raises(NotFound):
            await state.app(key)
