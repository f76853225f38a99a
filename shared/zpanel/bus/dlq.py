"""Dead letters: publish them, turn MAX_DELIVERIES advisories into them, list and replay them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

import nats.errors
import structlog
from nats.js import api

from zpanel import subjects
from zpanel.bus.codec import MSG_ID
from zpanel.errors import NotFound
from zpanel.events import DeadLetter, parse

if TYPE_CHECKING:
    from zpanel.bus.client import Bus
    from zpanel.bus.consumer import Delivery

log = structlog.get_logger("zpanel.bus")
KEPT_HEADERS_SKIP = {"Nats-Expected-Stream"}


async def dead_letter(bus: Bus, stage: str, stream: str, delivery: Delivery, data: bytes, reason: str) -> None:
    letter = DeadLetter(
        stage=stage,
        subject=delivery.subject,
        stream=stream,
        stream_seq=delivery.stream_seq,
        consumer=delivery.consumer,
        reason=reason,
        num_delivered=delivery.num_delivered,
        headers={k: v for k, v in delivery.headers.items() if k not in KEPT_HEADERS_SKIP},
        data=data.decode("utf-8", errors="replace"),
        **_ids(data),
    )
    await bus.publish(letter, msg_id=f"dlq:{stream}:{delivery.stream_seq}")


def _ids(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: doc[k] for k in ("deployment_id", "app_id", "server_id") if isinstance(doc.get(k), str)}


class AdvisoryMover:
    """Consumes stored MAX_DELIVERIES advisories: a message whose worker kept dying never reaches
    a handler's except-clause, so the server's advisory is the only witness left."""

    NAME = "dlq_mover"

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        cfg = api.ConsumerConfig(
            durable_name=self.NAME,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=30,
            max_deliver=20,
            num_replicas=self.bus.settings.stream_replicas,
        )
        await self.bus._retrying("create dlq mover", lambda: self.bus.js.add_consumer("ADVISORIES", cfg))
        self._sub = await self.bus.js.pull_subscribe_bind(durable=self.NAME, stream="ADVISORIES")
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                msgs = await self._sub.fetch(batch=10, timeout=1.0)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except Exception:
                if self.bus.nc.is_closed:
                    return
                await asyncio.sleep(0.25)
                continue
            for msg in msgs:
                try:
                    await self.move(json.loads(msg.data))
                    await msg.ack()
                except Exception as exc:
                    log.warning("dlq.advisory_failed", error=str(exc))
                    await msg.nak(delay=1.0)

    async def move(self, advisory: dict[str, Any]) -> None:
        stream, seq, consumer = advisory["stream"], int(advisory["stream_seq"]), advisory["consumer"]
        try:
            raw = await self.bus.js.get_msg(stream, seq)
        except Exception:
            log.warning("dlq.advisory_message_gone", stream=stream, seq=seq)
            return
        headers = {k: v for k, v in (raw.headers or {}).items() if k not in KEPT_HEADERS_SKIP}
        data = raw.data or b""
        letter = DeadLetter(
            stage=subjects.stage_of_consumer(consumer),
            subject=raw.subject or "",
            stream=stream,
            stream_seq=seq,
            consumer=consumer,
            reason=f"delivered {advisory.get('deliveries')} times without an answer (the worker died or hung each time)",
            num_delivered=int(advisory.get("deliveries", 0)),
            headers=headers,
            data=data.decode("utf-8", errors="replace"),
            **_ids(data),
        )
        await self.bus.publish(letter, msg_id=f"dlq:{stream}:{seq}")


async def list_letters(bus: Bus, limit: int = 100) -> list[tuple[int, DeadLetter]]:
    """The dead letters still in the DLQ stream, oldest first, with their DLQ sequence (the replay id)."""
    info = await bus.js.stream_info("DLQ")
    out: list[tuple[int, DeadLetter]] = []
    seq = info.state.first_seq
    while seq and seq <= info.state.last_seq and len(out) < limit:
        try:
            raw = await bus.js.get_msg("DLQ", seq)
        except Exception:
            seq += 1
            continue
        letter = parse(raw.data or b"{}")
        if isinstance(letter, DeadLetter):
            out.append((seq, letter))
        seq += 1
    return out


async def replay(bus: Bus, dlq_seq: int) -> int:
    """Publish a dead letter's original message again (a fresh delivery count) and drop the letter."""
    try:
        raw = await bus.js.get_msg("DLQ", dlq_seq)
    except Exception as exc:
        raise NotFound(f"no dead letter {dlq_seq}: `zpanel dlq list` shows the ids") from exc
    letter = parse(raw.data or b"{}")
    if not isinstance(letter, DeadLetter):
        raise NotFound(f"DLQ message {dlq_seq} is not a dead letter")
    headers = dict(letter.headers)
    headers[MSG_ID] = f"replay:{dlq_seq}:{headers.get(MSG_ID, letter.stream_seq)}"
    seq = await bus.publish_raw(letter.subject, letter.data.encode(), headers)
    with contextlib.suppress(Exception):
        await bus.js.delete_msg("DLQ", dlq_seq)
    log.info("dlq.replayed", dlq_seq=dlq_seq, subject=letter.subject, new_seq=seq)
    return seq
