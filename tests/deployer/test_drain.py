"""Drain: counting in-flight connections from /proc, the bounded wait, and a real slow request
that finishes on the old version after the switch."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.request

import httpx
import pytest

from tests.harness.clock import FakeClock
from tests.proxy_sync.conftest import traefik_proxy, versions
from zpanel_deployer.drain import (
    Drained,
    Unreadable,
    connection_counter,
    established_on,
    inbound,
    inbound_argv,
    listening_inbound,
    parse_pids,
    pid_argv,
    proc_net_argv,
    wait_drained,
)
from zpanel_health.runner import local_runner
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.switch import switch
from zpanel_proxy_sync.verify import httpx_fetch, verify

__all__ = ["traefik_proxy", "versions"]  # proxy-sync's fixtures: a real Traefik and app versions to switch

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 020011AC:1F90 010011AC:D4C2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 020011AC:1F90 010011AC:D4C4 06 00000000:00000000 03:00000A4B 00000000     0        0 0 3 0000000000000000
   3: 020011AC:9C40 010011AC:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 0000000000000000FFFF0000020011AC:1F90 0000000000000000FFFF0000010011AC:D4D0 01 00000000:00000000
"""


def test_established_on_counts_only_established_on_the_port():
    # Listening (0A) and TIME_WAIT (06) do not count; nor does an outgoing connection to :8080.
    assert established_on(PROC_NET_TCP, 8080) == 2
    assert established_on(PROC_NET_TCP, 40000) == 1
    assert established_on("", 8080) == 0


def test_listening_inbound_counts_connections_to_listening_ports_only():
    # 8080 listens (0A): two established to it (tcp and tcp6) count; the established connection
    # from local port 40000 is the app's own outgoing one and does not
    assert listening_inbound(PROC_NET_TCP) == 2
    assert listening_inbound("") == 0


def test_inbound_counts_each_process_on_its_own():
    listen_9000 = "   0: 00000000:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0  0 1\n"
    # process 7 listens on 9000 only: its connection on local port 8080 is outgoing there
    outgoing_8080 = "   1: 020011AC:1F90 010011AC:D4C2 01 00000000:00000000 00:00000000 00000000     0  0 2\n"
    output = f"== 6\n{PROC_NET_TCP}== 7\n{listen_9000}{outgoing_8080}"
    assert inbound(output) == 2
    assert inbound("") == 0  # every process gone


def test_inbound_of_an_unreadable_process_is_unknown():
    with pytest.raises(Unreadable) as info:
        inbound(f"== 6\n{PROC_NET_TCP}!! 7\n")
    assert str(info.value) == "cannot read the connections of process 7"


def test_parse_pids_keeps_running_containers():
    assert parse_pids("123\n0\n\n456\n") == [123, 456]


def test_argv():
    assert pid_argv("abc") == ["docker", "inspect", "--type", "container", "--format", "{{.State.Pid}}", "abc"]
    assert proc_net_argv(42) == ["cat", "/proc/42/net/tcp", "/proc/42/net/tcp6"]


async def test_wait_drained_until_zero_or_timeout():
    clock = FakeClock()
    counts = iter([3, 2, 0])

    async def count():
        return next(counts)

    assert await wait_drained(count, timeout=5, settle=0.1, interval=0.5, clock=clock, sleep=clock.sleep) == Drained(
        1.1, 0
    )

    async def stuck():
        return 1

    clock = FakeClock()
    assert await wait_drained(stuck, timeout=2, settle=0.5, interval=0.5, clock=clock, sleep=clock.sleep) == Drained(
        2.0, 1
    )


async def test_counter_of_a_gone_container_is_zero():
    assert await connection_counter(local_runner, "zp-never-existed", 8080)() == 0


@pytest.mark.docker
async def test_in_flight_request_finishes_on_the_old_version(traefik_proxy, versions):
    """A 3 s request is in flight on v1 when traffic switches to v2; the drain waits for it,
    only then is v1 stopped, and the request ends 200 from v1."""
    v1, v2 = await versions("v1"), await versions("v2")
    backend, fetch = traefik_proxy.backend(), httpx_fetch(traefik_proxy.url)

    async def route_to(v):
        route = AppRoute("shop", ("shop.test",), (v.ref.address,), f"dep-{v.name}", TlsOptions(enabled=False))
        await switch(backend, route, lambda r: verify(fetch, r.domains, r.deployment_id, within=10))

    await route_to(v1)
    count = connection_counter(local_runner, v1.ref.id, 8080)
    async with httpx.AsyncClient(timeout=10) as client:
        slow = asyncio.create_task(client.get(f"{traefik_proxy.url}/cgi-bin/slow", headers={"Host": "shop.test"}))
        for _ in range(500):  # until the slow request has reached v1 (10 s at most)
            if await count() > 0:
                break
            await asyncio.sleep(0.02)
        assert await count() == 1
        await route_to(v2)
        assert not slow.done()
        drained = await wait_drained(count, timeout=10)
        await local_runner(["docker", "rm", "-f", v1.ref.id], timeout=30)
        answer = await slow
    assert drained.remaining == 0
    assert (answer.status_code, answer.text, answer.headers["X-Zpanel-Deployment"]) == (200, "slow v1\n", "dep-v1")
    after = await fetch("shop.test")
    assert after == (200, "dep-v2")


@pytest.mark.docker
async def test_inbound_script_on_a_real_container(versions):
    v1 = await versions("v1")
    pid = int((await local_runner(pid_argv(v1.ref.id), timeout=30)).stdout)
    gone = 2**22 + 1  # above the kernel's pid_max: no such process

    async def count() -> int:
        return inbound((await local_runner(inbound_argv([pid, gone]), timeout=30)).stdout)

    host, port = v1.ref.address.rsplit(":", 1)
    # httpd may not listen yet (a busy machine): a connection made before would be dropped by
    # Docker's port proxy, never reaching the container. Wait for an answer, then for its close.
    for _ in range(250):
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://{v1.ref.address}/", timeout=2) as answer:
            if answer.status == 200:
                break
        await asyncio.sleep(0.02)
    for _ in range(100):
        if await count() == 0:
            break
        await asyncio.sleep(0.02)
    assert await count() == 0
    with socket.create_connection((host, int(port)), timeout=5):
        for _ in range(100):  # the accept reaches the container's table within a few ms
            if await count() == 1:
                break
            await asyncio.sleep(0.02)
        assert await count() == 1
