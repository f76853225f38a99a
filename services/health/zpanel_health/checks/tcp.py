"""TCP check: something accepts a connection on the container's port, from outside the image.

Docker's userland proxy accepts on a published port even before the app listens, then closes the
connection at once; so a connection that is closed within ``settle`` seconds counts as a failure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from zpanel_health.checks.base import Connect, ProbeResult, close_quietly, open_tcp


@dataclass(frozen=True)
class TcpCheck:
    host: str
    port: int
    connect: Connect = field(default=open_tcp)
    settle: float = 0.15

    async def __call__(self) -> ProbeResult:
        where = f"{self.host}:{self.port}"
        try:
            reader, writer = await self.connect(self.host, self.port)
        except OSError as exc:
            return ProbeResult(False, f"TCP {where}: {exc.strerror or exc}")
        try:
            try:
                first = await asyncio.wait_for(reader.read(1), self.settle)
            except TimeoutError:
                return ProbeResult(True, f"TCP {where} accepts connections")
            except OSError:
                first = b""
            if first:
                return ProbeResult(True, f"TCP {where} accepts connections")
            return ProbeResult(False, f"TCP {where}: connection closed at once (nothing listens behind it yet)")
        finally:
            close_quietly(writer)
