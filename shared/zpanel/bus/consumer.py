"""Durable pull consumers and the one place where ack, nak and term are decided.

    handler returns                → ack
    RetryableError (or a bug)      → nak with delay base·2^(n-1) (capped) while n < max_attempts,
                                     then dead-letter + term
    PermanentError / malformed     → dead-letter + term at once
    worker dies mid-message        → redelivered after ack_wait; past max_deliver the server's
                                     MAX_DELIVERIES advisory is turned into a dead letter (dlq.py)

``concurrency`` is the number of deliveries one process *claims* at once: each has its handler
running (and heartbeating) from the moment it arrives, so a burst is picked up at once. It is not
how much heavy work runs at once — a handler takes a bounded slot (``zpanel.slots``) around that.
Messages are pulled with credit (``puller.py``): a pull request never asks for more than the
claims free, so no delivered message waits without a handler. Several processes of one service
share a burst (the server hands messages to their open requests in turn); ``max_ack_pending``
(4 x claims per process) bounds what the server hands out across all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from nats.aio.msg import Msg
from nats.js import api
from opentelemetry import trace
from pydantic import ValidationError

from zpanel import subjects as subj
from zpanel.bus.dlq import dead_letter
from zpanel.bus.puller import Puller
from zpanel.errors import PermanentError
from zpanel.events import Event, UnknownEventType, parse
from zpanel.telemetry import bound, extract, tracer

if TYPE_CHECKING:
    from zpanel.bus.client import Bus

log = structlog.get_logger("zpanel.bus")


@dataclass
class Delivery:
    """What a handler may know of the transport."""

    subject: str
    headers: dict[str, str]
    num_delivered: int
    stream_seq: int
    consumer: str
    _msg: Msg = field(repr=False)
    max_attempts: int = 3
    beat_at: float = field(default=0.0, repr=False)  # the last "in progress" (or the start)

    @property
    def last_attempt(self) -> bool:
        """No retry follows a failure of this delivery: fail the deployment rather than raise."""
        return self.num_delivered >= self.max_attempts

    async def in_progress(self) -> None:
        """Tell the server we are still working (resets its ack-wait timer)."""
        with contextlib.suppress(Exception):
            await self._msg.in_progress()


Handler = Callable[[Event, Delivery], Awaitable[None]]


class Consumer:
    def __init__(
        self,
        bus: Bus,
        *,
        stage: str,
        subjects: Sequence[str],
        handler: Handler,
        stream: str | None = None,
        server_id: str | None = None,
        concurrency: int = 1,
        ack_wait: float | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self.bus = bus
        self.stage = stage
        self.subjects = list(subjects)
        self.handler = handler
        self.stream = stream or bus.settings.catalogue.stream_for(self.subjects[0])
        self.name = subj.consumer_name(stage, server_id)
        self.concurrency = concurrency
        self.ack_wait = ack_wait or bus.settings.ack_wait_s
        self.max_attempts = max_attempts or bus.settings.max_attempts
        self._tasks: set[asyncio.Task[None]] = set()
        # deliveries whose handler runs, by stream sequence: one loop heartbeats them all (a task
        # per delivery would be hundreds of sleeping tasks under a burst, each costing its start)
        self._running: dict[int, Delivery] = {}
        self._beats: asyncio.Task[None] | None = None
        self._puller: Puller | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        config = api.ConsumerConfig(
            durable_name=self.name,
            filter_subjects=self.subjects if len(self.subjects) > 1 else None,
            filter_subject=self.subjects[0] if len(self.subjects) == 1 else None,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            # a crash loop gets two deliveries more than handled failures, then the advisory
            max_deliver=self.max_attempts + 2,
            max_ack_pending=max(self.concurrency, 1) * 4,
            deliver_policy=api.DeliverPolicy.ALL,
            num_replicas=self.bus.settings.stream_replicas,
        )
        await self.bus._retrying(f"create consumer {self.name}", lambda: self.bus.js.add_consumer(self.stream, config))
        self._puller = Puller(self.bus.nc, self.stream, self.name, self.concurrency, self._spawn)
        self._puller.start()
        self._beats = asyncio.create_task(self._heartbeats(), name=f"beats:{self.name}")

    @property
    def in_hand(self) -> int:
        """Deliveries this process holds now (handlers running, or waiting for a slot)."""
        return self._puller.in_hand if self._puller else 0

    async def stop(self, grace: float = 10.0) -> None:
        """Stop fetching, let in-flight work finish (bounded), hand the rest back to the server."""
        self._stopping.set()
        if self._puller:
            await self._puller.stop()
        if self._beats:
            self._beats.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2.0)

    def _spawn(self, msg: Msg) -> None:
        task = asyncio.create_task(self._run(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, msg: Msg) -> None:
        try:
            await self._handle(msg)
        except Exception:  # never let one message kill the loop; it will be redelivered
            log.exception("consumer.unhandled", consumer=self.name, subject=msg.subject)
        finally:
            if self._puller:
                self._puller.release()

    async def _handle(self, msg: Msg) -> None:
        md = msg.metadata
        n = md.num_delivered
        headers = dict(msg.headers or {})
        delivery = Delivery(msg.subject, headers, n, md.sequence.stream, self.name, msg, self.max_attempts)
        span_ctx = extract(headers)
        with tracer().start_as_current_span(
            f"{self.stage} {msg.subject}",
            context=span_ctx,
            kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "messaging.destination.name": msg.subject, "zpanel.delivery": n},
        ) as span:
            try:
                event = parse(msg.data)
            except (ValidationError, UnknownEventType, json.JSONDecodeError, UnicodeDecodeError) as exc:
                await self._dead(msg, delivery, f"malformed {msg.subject} message: {_short(exc)}")
                return
            for key in ("deployment_id", "app_id", "server_id"):
                if getattr(event, key, None):
                    span.set_attribute(f"zpanel.{key}", getattr(event, key))
            with bound(deployment_id=event.deployment_id, app_id=event.app_id, server_id=event.server_id):
                await self._handle_event(msg, delivery, event, span)

    async def _handle_event(self, msg: Msg, delivery: Delivery, event: Event, span: trace.Span) -> None:
        delivery.beat_at = time.monotonic()
        self._running[delivery.stream_seq] = delivery
        try:
            await self.handler(event, delivery)
        except asyncio.CancelledError:
            if self._stopping.is_set():
                # shutting down past the grace (or still waiting for a slot): hand it to another
                # process now rather than after ack_wait
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(msg.nak(), 1.0)
            raise
        except PermanentError as exc:
            span.record_exception(exc)
            await self._dead(msg, delivery, str(exc))
        except Exception as exc:
            span.record_exception(exc)
            reason = str(exc) or type(exc).__name__
            if delivery.num_delivered >= self.max_attempts:
                await self._dead(msg, delivery, f"failed {delivery.num_delivered} times; last error: {reason}")
            else:
                delay = self.bus.settings.retry_delay(delivery.num_delivered)
                log.warning(
                    "consumer.retry", consumer=self.name, attempt=delivery.num_delivered, delay=delay, error=reason
                )
                await msg.nak(delay=delay)
        else:
            await _ack(msg)
        finally:
            self._running.pop(delivery.stream_seq, None)

    async def _heartbeats(self) -> None:
        """Every running delivery says "in progress" at least every ack_wait/3, so the server
        never hands it to another process while its handler (or its wait for a slot) lasts."""
        every = self.ack_wait / 3
        while True:
            await asyncio.sleep(every / 2)
            due = time.monotonic() - every
            for delivery in [d for d in self._running.values() if d.beat_at <= due]:
                delivery.beat_at = time.monotonic()
                await delivery.in_progress()

    async def _dead(self, msg: Msg, delivery: Delivery, reason: str) -> None:
        # publish first: term() deletes nothing here (limits streams), but a lost DLQ copy would be
        await dead_letter(self.bus, self.stage, self.stream, delivery, msg.data, reason)
        await msg.term()
        log.error("consumer.dead_lettered", consumer=self.name, subject=msg.subject, reason=reason)


async def _ack(msg: Msg) -> None:
    try:
        await msg.ack_sync(timeout=2.0)
    except Exception:  # the ack may still have landed; if not, a redelivery is handled idempotently
        with contextlib.suppress(Exception):
            await msg.ack()


def _short(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        text = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
    else:
        text = str(exc).replace("\n", " ")
    return text[:500]


class PerServer:
    """One :class:`Consumer` per registered server, filtered on ``<event>.<server>`` subjects."""

    def __init__(
        self, bus: Bus, *, stage: str, event_types: Sequence[str], handler: Handler, concurrency: int = 1, **kw: Any
    ) -> None:
        self.bus = bus
        self.stage = stage
        self.event_types = list(event_types)
        self.handler = handler
        self.concurrency = concurrency
        self.kw = kw
        self.consumers: dict[str, Consumer] = {}
        self._watch: asyncio.Task[None] | None = None
        self._adding = asyncio.Lock()

    async def start(self) -> None:
        kv = await self.bus.kv("servers")
        self._watcher = await kv.watchall()
        self._watch = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        async for entry in self._watcher:
            if entry is None:
                continue
            name = entry.key
            if entry.operation in ("DEL", "PURGE"):
                gone = self.consumers.pop(name, None)
                if gone:
                    await gone.stop()
            elif name not in self.consumers:
                await self.add(name)

    async def add(self, server_id: str) -> Consumer:
        async with self._adding:  # the watcher and a caller may add the same server at once
            if server_id in self.consumers:
                return self.consumers[server_id]
            return await self._add(server_id)

    async def _add(self, server_id: str) -> Consumer:
        concurrency = self.concurrency
        c = Consumer(
            self.bus,
            stage=self.stage,
            subjects=[subj.stage(t, server_id) for t in self.event_types],
            handler=self.handler,
            server_id=server_id,
            concurrency=concurrency,
            **self.kw,
        )
        await c.start()
        self.consumers[server_id] = c
        log.info("consumer.server_added", stage=self.stage, server_id=server_id)
        return c

    async def stop(self) -> None:
        if self._watch:
            self._watch.cancel()
        with contextlib.suppress(Exception):
            await self._watcher.stop()
        await asyncio.gather(*(c.stop() for c in self.consumers.values()))
