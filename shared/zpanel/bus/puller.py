"""Credit-based pulling for one durable pull consumer: every message the server sends already has a
claim waiting for it in this process.

The pull requests are ours (``$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>``), not nats-py's
``fetch``: a fetch that returns early leaves its request open on the server, which later delivers
messages nobody reserved room for, nobody heartbeats, and whose ack wait runs out — two copies of
one job. Here the books always balance:

    credit = claims − messages in hand − messages still owed by open requests

and a request never asks for more than the credit. Each request has its own inbox subscription, so
a delivery, an idle heartbeat (100) or the status that ends a request (408 expired, 409 conflict,
404, 503 no responders) is charged to exactly that request; when it ends, what it still owed comes
back as credit (the server says how much in ``Nats-Pending-Messages``; our own count is the one
used, the header is only checked against it). A request that falls silent (no message nor
heartbeat for two heartbeat intervals), outlives its ``expires``, or was made before a reconnect is
given up: its inbox is unsubscribed first, so the server, which delivers only to requests whose
inbox still has interest, cannot send to it any more, and its credit is reused.

Idle cost: one open request per consumer, renewed every ``expires``, and one heartbeat message per
``heartbeat`` seconds. A new request is made when nothing is owed, or when at least half the claims
are free and unrequested, so a consumer under steady load does not send one request per ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = structlog.get_logger("zpanel.bus")

STATUS = "Status"
PENDING = "Nats-Pending-Messages"


@dataclass
class PullRequest:
    inbox: str
    batch: int
    expires_at: float
    heard_at: float
    delivered: int = 0
    open: bool = True
    sub: Subscription | None = field(default=None, repr=False)

    @property
    def owed(self) -> int:
        return self.batch - self.delivered if self.open else 0


class Puller:
    def __init__(
        self,
        nc: NATS,
        stream: str,
        consumer: str,
        claims: int,
        deliver: Callable[[Msg], None],
        *,
        expires: float = 30.0,
        heartbeat: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self.consumer = consumer
        self.claims = max(1, claims)
        self.deliver = deliver
        self.expires = expires
        self.heartbeat = min(heartbeat, expires / 2)  # the server refuses a heartbeat over expires/2
        self.clock = clock
        self.in_hand = 0
        self.requests_sent = 0
        self._open: dict[str, PullRequest] = {}
        self._ended: list[PullRequest] = []  # to unsubscribe, from the loop (never inside their own callback)
        self._wake = asyncio.Event()
        self._retry_at = 0.0
        self._backoff = 0.0
        self._reconnects = int(nc.stats.get("reconnects", 0))
        self._task: asyncio.Task[None] | None = None

    # --- the books ----------------------------------------------------------------------------

    @property
    def owed(self) -> int:
        return sum(r.owed for r in self._open.values())

    @property
    def credit(self) -> int:
        return self.claims - self.in_hand - self.owed

    def release(self) -> None:
        """One claimed delivery is finished (acked, nakked or given up): its claim is free."""
        self.in_hand -= 1
        self._wake.set()

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"pull:{self.consumer}")

    async def stop(self) -> None:
        """No more requests; the open ones lose their inbox, so nothing more is delivered here."""
        if self._task:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=2.0)
        for req in list(self._open.values()):
            self._end(req)
        await self._unsubscribe_ended()

    async def _run(self) -> None:
        tick = min(0.5, self.heartbeat / 2)
        while True:
            self._wake.clear()
            self._give_up_lost()
            await self._unsubscribe_ended()
            if self._wants_request():
                await self._request(self.credit)
            wait = tick if self._retry_at <= self.clock() else max(0.01, self._retry_at - self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(tick, wait))

    def _wants_request(self) -> bool:
        credit = self.credit
        if credit < 1 or self.clock() < self._retry_at or self.nc.is_closed or self.nc.is_reconnecting:
            return False
        return self.owed == 0 or credit >= max(1, self.claims // 2)

    async def _request(self, n: int) -> None:
        now = self.clock()
        inbox = self.nc.new_inbox()
        req = PullRequest(inbox, n, expires_at=now + self.expires, heard_at=now)
        # registered (owing n) before it is sent: its first message may come before publish returns
        self._open[inbox] = req
        body = {"batch": n, "expires": _ns(self.expires), "idle_heartbeat": _ns(self.heartbeat)}
        try:
            req.sub = await self.nc.subscribe(inbox, cb=functools.partial(self._on_msg, req))
            await self.nc.publish(self.subject, json.dumps(body).encode(), reply=inbox)
            self.requests_sent += 1
        except Exception as exc:  # disconnected, closing: give the credit back, try again shortly
            log.info("consumer.pull_failed", consumer=self.consumer, error=type(exc).__name__)
            self._end(req)
            self._later()

    # --- what the server sends ----------------------------------------------------------------

    async def _on_msg(self, req: PullRequest, msg: Msg) -> None:
        req.heard_at = self.clock()
        status = (msg.headers or {}).get(STATUS) if not msg.reply else None
        if status is None:
            self._delivered(req, msg)
        elif status == "100":  # idle heartbeat: the request is alive
            self._backoff = 0.0
        else:
            self._ended_by_server(req, status, msg)
        self._wake.set()

    def _delivered(self, req: PullRequest, msg: Msg) -> None:
        if req.open:
            req.delivered += 1
            if req.delivered >= req.batch:
                self._end(req)  # fulfilled: the server sends nothing more for it
        else:
            # a request given up (reconnect, silence) still delivered before its unsubscribe landed:
            # handle it anyway — one claim over the limit beats a message nobody heartbeats
            log.info("consumer.late_delivery", consumer=self.consumer)
        self._backoff = 0.0
        self.in_hand += 1
        self.deliver(msg)

    def _ended_by_server(self, req: PullRequest, status: str, msg: Msg) -> None:
        headers = msg.headers or {}
        pending = headers.get(PENDING)
        if pending is not None and pending.isdigit() and int(pending) != req.owed:
            log.info("consumer.pull_pending_mismatch", consumer=self.consumer, server=int(pending), ours=req.owed)
        self._end(req)
        if status in ("408", "404"):
            return  # expired or empty: ask again at once
        # 409 (leadership change, server shutdown, consumer deleted, limits), 503 (no responders:
        # electing, or no such consumer), 400: back off, then ask again
        log.info("consumer.pull_ended", consumer=self.consumer, status=status, reason=headers.get("Description"))
        self._later()

    # --- giving up on requests ----------------------------------------------------------------

    def _give_up_lost(self) -> None:
        now = self.clock()
        reconnects = int(self.nc.stats.get("reconnects", 0))
        reconnected = reconnects != self._reconnects
        self._reconnects = reconnects
        for req in list(self._open.values()):
            silent = now - req.heard_at > 2 * self.heartbeat + 1.0
            if reconnected or silent or now > req.expires_at + 1.0:
                # the server that held it may be gone, or it was lost without a word
                self._end(req)

    def _end(self, req: PullRequest) -> None:
        if req.open:
            req.open = False
            self._open.pop(req.inbox, None)
            self._ended.append(req)
            self._wake.set()

    async def _unsubscribe_ended(self) -> None:
        ended, self._ended = self._ended, []
        for req in ended:
            if req.sub is not None:
                with contextlib.suppress(Exception):
                    await req.sub.unsubscribe()

    def _later(self) -> None:
        self._backoff = min(2.0, max(0.1, self._backoff * 2))
        self._retry_at = self.clock() + self._backoff


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)
