"""What every check returns and how it reaches the network: a probe is an argument-less coroutine
function, the network is an injected ``connect`` (asyncio's locally, an SSH channel remotely)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    fatal: bool = False
    """True when waiting cannot help (the container exited, was OOM-killed, loops on restarts)."""


Probe = Callable[[], Awaitable[ProbeResult]]


class Reader(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


class Writer(Protocol):
    def write(self, data: bytes) -> Any: ...
    def close(self) -> Any: ...


Connect = Callable[[str, int], Awaitable[tuple[Any, Any]]]
"""``await connect(host, port) -> (reader, writer)``. ``asyncio.open_connection`` fits, and so does
asyncssh's ``SSHClientConnection.open_connection`` (a direct-tcpip channel opened on the server)."""


async def open_tcp(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


def split_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:32768"`` → ``("127.0.0.1", 32768)``; ``"[::1]:80"`` → ``("::1", 80)``."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"container address {address!r} is not host:port")
    return host.strip("[]"), int(port)


def close_quietly(writer: Any) -> None:
    # A failed close of a probe socket changes nothing about the result.
    with contextlib.suppress(Exception):
        writer.close()
