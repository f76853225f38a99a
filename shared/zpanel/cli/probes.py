"""Readiness checks the supervisor runs against its children: a TCP port accepting, an HTTP URL
answering 2xx, or a service answering its core-NATS ping (``zpanel.ping.<service>``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import nats
from nats.aio.client import Client as NATS

from zpanel.cli.plan import Probe


class Prober:
    """Runs probes; keeps one lazily (re)made NATS connection for the ping probes."""

    def __init__(self, nats_url: str | None, timeout: float = 1.0) -> None:
        self.nats_url = nats_url
        self.timeout = timeout
        self._nc: NATS | None = None
        self._http = httpx.AsyncClient(timeout=timeout)

    async def check(self, probe: Probe) -> bool:
        try:
            if probe.kind == "tcp":
                return await self._tcp(int(probe.target))
            if probe.kind == "http":
                r = await self._http.get(probe.target)
                return 200 <= r.status_code < 300
            if probe.kind == "ping":
                return await self._ping(probe.target)
        except (TimeoutError, OSError, httpx.HTTPError, nats.errors.Error):
            return False
        raise ValueError(f"unknown probe kind {probe.kind!r}")

    async def _tcp(self, port: int) -> bool:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), self.timeout)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def _ping(self, subject: str) -> bool:
        nc = await self._connection()
        if nc is None:
            return False
        await nc.request(subject, b"", timeout=self.timeout)
        return True

    async def _connection(self) -> NATS | None:
        if self._nc is not None and self._nc.is_connected:
            return self._nc
        if self._nc is not None and not self._nc.is_closed:
            return None  # reconnecting on its own
        if not self.nats_url:
            return None
        opts: dict[str, Any] = {
            "servers": [u.strip() for u in self.nats_url.split(",")],
            "name": "zpanel-supervisor",
            "connect_timeout": self.timeout,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.25,
        }

        async def quiet(exc: Exception) -> None:  # NATS down is an expected state, not an error
            return None

        try:
            # With endless reconnects nats-py also retries the first connect forever: bound it.
            self._nc = await asyncio.wait_for(nats.connect(**opts, error_cb=quiet), self.timeout * 2)
        except Exception:
            self._nc = None
        return self._nc

    async def close(self) -> None:
        await self._http.aclose()
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()
