"""The bus: one NATS connection per process, JetStream publish with dedupe and trace context,
KV buckets, and the consumers (see ``consumer.py``) that carry every ack/nak/term decision."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import nats.js
import structlog
from nats.aio.client import Client as NATS
from nats.js.kv import KeyValue
from opentelemetry import trace

from zpanel.bus import codec, provision
from zpanel.bus.errors import is_transient, unreachable
from zpanel.events import Event
from zpanel.settings import Settings, load
from zpanel.telemetry import tracer

log = structlog.get_logger("zpanel.bus")


class Bus:
    def __init__(self, nc: NATS, settings: Settings, name: str) -> None:
        self.nc = nc
        self.js: nats.js.JetStreamContext = nc.jetstream(timeout=5)
        self.settings = settings
        self.name = name
        self._kv: dict[str, KeyValue] = {}
        self._consumers: list[Any] = []
        self._flags = {"closing": False}

    # --- connection ---------------------------------------------------------------------------

    @classmethod
    async def connect(
        cls, settings: Settings | None = None, *, name: str = "zpanel", connect_timeout: float = 5.0
    ) -> Bus:
        settings = settings or load()

        async def on_error(exc: Exception) -> None:
            log.warning("nats.error", error=str(exc))

        flags = {"closing": False}

        async def on_disconnect() -> None:
            if not flags["closing"]:
                log.warning("nats.disconnected")

        async def on_reconnect() -> None:
            log.info("nats.reconnected")

        opts: dict[str, Any] = {
            "servers": settings.nats_servers,
            "name": name,
            "connect_timeout": connect_timeout,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.25,
            "allow_reconnect": True,
            "error_cb": on_error,
            "disconnected_cb": on_disconnect,
            "reconnected_cb": on_reconnect,
        }
        if settings.nats_user:
            opts.update(user=settings.nats_user, password=settings.nats_password)
        if settings.nats_creds:
            opts["user_credentials"] = str(settings.nats_creds)
        try:
            nc = await nats.connect(**opts)
        except Exception as exc:
            raise unreachable(f"connect to {', '.join(settings.nats_servers)}", exc) from exc
        bus = cls(nc, settings, name)
        bus._flags = flags
        return bus

    async def provision(self) -> None:
        """Create or update every stream and KV bucket (idempotent, safe on an existing NATS)."""
        await self._retrying("provision streams", lambda: provision.ensure(self.js, self.settings))

    async def close(self) -> None:
        self._flags["closing"] = True
        for c in self._consumers:
            await c.stop()
        self._consumers.clear()
        if not self.nc.is_closed:
            # consumers are stopped and acked already; drain() would wait on watcher queues
            with contextlib.suppress(Exception):
                await self.nc.flush(timeout=2)
            await self.nc.close()

    async def __aenter__(self) -> Bus:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- publish ------------------------------------------------------------------------------

    async def publish(
        self,
        event: Event,
        subject: str | None = None,
        *,
        msg_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        """Publish durably; returns the stream sequence. A duplicate msg id returns the first copy's."""
        subject = subject or codec.subject_for(event)
        with tracer().start_as_current_span(
            f"publish {event.type}",
            kind=trace.SpanKind.PRODUCER,
            attributes=_span_attrs(event, subject),
        ):
            hdrs = codec.headers_for(event, msg_id, headers)
            return await self.publish_raw(subject, codec.encode(event), hdrs)

    async def publish_raw(self, subject: str, data: bytes, headers: dict[str, str]) -> int:
        async def once() -> int:
            ack = await self.js.publish(subject, data, headers=headers)
            return int(ack.seq)

        return await self._retrying(f"publish to {subject}", once)

    async def _retrying(self, what: str, op: Callable[[], Awaitable[Any]], budget: float | None = None) -> Any:
        """Retry through leader elections and reconnects (no-responders, timeouts) within a budget."""
        deadline = time.monotonic() + (budget if budget is not None else max(10.0, self.settings.ack_wait_s))
        delay = 0.05
        while True:
            try:
                return await op()
            except Exception as exc:
                if not is_transient(exc) or time.monotonic() + delay > deadline:
                    if is_transient(exc):
                        raise unreachable(what, exc) from exc
                    raise
                log.info("nats.retry", what=what, error=type(exc).__name__, delay=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    # --- KV -----------------------------------------------------------------------------------

    async def kv(self, bucket: str) -> KeyValue:
        if bucket not in self._kv:
            self._kv[bucket] = await self._retrying(f"open KV bucket {bucket}", lambda: self.js.key_value(bucket))
        return self._kv[bucket]

    # --- consume ------------------------------------------------------------------------------

    async def consume(self, **kwargs: Any) -> Any:
        """Start a durable pull consumer; see :class:`zpanel.bus.consumer.Consumer` for arguments."""
        from zpanel.bus.consumer import Consumer

        consumer = Consumer(self, **kwargs)
        await consumer.start()
        self._consumers.append(consumer)
        return consumer

    async def consume_per_server(self, **kwargs: Any) -> Any:
        """One durable consumer per registered server, following servers as they come and go."""
        from zpanel.bus.consumer import PerServer

        per = PerServer(self, **kwargs)
        await per.start()
        self._consumers.append(per)
        return per


def _span_attrs(event: Event, subject: str) -> dict[str, str]:
    attrs = {"messaging.system": "nats", "messaging.destination.name": subject, "zpanel.event": event.type}
    for key in ("deployment_id", "app_id", "server_id"):
        value = getattr(event, key, None)
        if value:
            attrs[f"zpanel.{key}"] = value
    return attrs
