"""TCP check against real containers: Docker's published port alone is not enough to pass."""

from __future__ import annotations

from tests.harness.nats import free_port
from zpanel_health.checks.base import ProbeResult, split_address
from zpanel_health.checks.tcp import TcpCheck


def test_split_address():
    assert split_address("127.0.0.1:32768") == ("127.0.0.1", 32768)
    assert split_address("[::1]:80") == ("::1", 80)


async def test_listening_app_passes(container, until_passed):
    host, port = container().hostport
    assert (await until_passed(TcpCheck(host, port))).detail == f"TCP {host}:{port} accepts connections"


async def test_published_port_with_nothing_behind_fails(container):
    host, port = container(cmd=["sleep", "30"]).hostport
    assert await TcpCheck(host, port)() == ProbeResult(
        False, f"TCP {host}:{port}: connection closed at once (nothing listens behind it yet)"
    )


async def test_refused_connection_fails():
    port = free_port()
    assert await TcpCheck("127.0.0.1", port)() == ProbeResult(
        False, f"TCP 127.0.0.1:{port}: Connect call failed ('127.0.0.1', {port})"
    )
