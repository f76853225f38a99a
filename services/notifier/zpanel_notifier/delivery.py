"""Deliver one notification to many targets: concurrently, each with its own retries, exactly
once per (event, target) however often the event itself is redelivered.

Once-only rests on the ``SeenStore``: a target's delivery id is claimed before the first
attempt, kept when the message went out, and released when the target gave up, so replaying
the dead letter tries that target again and only that one. A crash between claim and send loses
that one message rather than sending it twice: a duplicate page at 3 a.m. is the worse failure.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import structlog

from zpanel_notifier.errors import SendError
from zpanel_notifier.messages import Notification
from zpanel_notifier.redaction import redact_urls
from zpanel_notifier.targets import Target

log = structlog.get_logger(__name__)

Send = Callable[[Target, Notification, str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class SeenStore(Protocol):
    """Delivery ids already claimed. The worker backs it with the ``notifications`` KV bucket
    (claim = create, which fails when the key exists; release = delete)."""

    async def claim(self, key: str) -> bool:
        """True when this call is the first to claim ``key``."""
        ...

    async def release(self, key: str) -> None:
        """Forget a claim, so a later replay of the event may try again."""
        ...


class MemorySeenStore:
    """In-process store, for unit tests only: it forgets everything on restart."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    async def claim(self, key: str) -> bool:
        if key in self.keys:
            return False
        self.keys.add(key)
        return True

    async def release(self, key: str) -> None:
        self.keys.discard(key)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    attempt_timeout: float = 30.0
    """A backstop over the channel's own timeouts, so no target can hold the event forever."""

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after the n-th failed attempt (1-based): 1, 2, 4, 8… capped."""
        return float(min(self.max_delay, self.first_delay * self.factor ** (failed_attempts - 1)))


Status = Literal["sent", "duplicate", "failed", "error"]


@dataclass(frozen=True)
class Outcome:
    """What became of one target. ``failed`` is a dead letter for the worker to publish;
    ``error`` means the seen store did not answer and the event should be retried later."""

    status: Status
    delivery_id: str
    target: str  # the redacted label: safe to log and to publish
    target_key: str
    event_id: str
    event_type: str
    app_id: str | None
    attempts: int = 0
    reason: str | None = None

    def document(self) -> dict[str, Any]:
        """The dead letter's payload: enough to find the target again, nothing that reveals it."""
        return {
            "delivery_id": self.delivery_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "app_id": self.app_id,
            "target": self.target,
            "target_key": self.target_key,
            "attempts": self.attempts,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DeliveryReport:
    outcomes: tuple[Outcome, ...]

    @property
    def dead_letters(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def incomplete(self) -> bool:
        """Some targets could not even be claimed: the worker should retry the event."""
        return any(o.status == "error" for o in self.outcomes)


def delivery_id(event_id: str, target: Target) -> str:
    """Stable per (event, destination); a valid NATS KV key and Standard Webhooks ``webhook-id``."""
    digest = hashlib.sha256(f"{event_id}\n{target.url}".encode()).hexdigest()
    return f"ntf_{digest[:32]}"


async def deliver(
    note: Notification,
    targets: Sequence[Target],
    *,
    send: Send,
    seen: SeenStore,
    policy: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> DeliveryReport:
    """Send ``note`` to every target at once. Never raises for a target's failure: each one
    ends as an ``Outcome``, so one dead endpoint cannot hold up or cancel the others."""
    policy = policy or RetryPolicy()
    outcomes = await asyncio.gather(*(_deliver_one(note, t, send, seen, policy, sleep) for t in targets))
    return DeliveryReport(tuple(outcomes))


async def _deliver_one(
    note: Notification, target: Target, send: Send, seen: SeenStore, policy: RetryPolicy, sleep: Sleep
) -> Outcome:
    did = delivery_id(note.event_id, target)

    def outcome(status: Status, attempts: int = 0, reason: str | None = None) -> Outcome:
        return Outcome(
            status, did, target.label, target.key, note.event_id, note.event_type, note.app_id, attempts, reason
        )

    try:
        if not await seen.claim(did):
            log.info("notification already sent", delivery_id=did, target=target.label)
            return outcome("duplicate")
    except Exception as exc:
        return outcome("error", reason=f"cannot record the delivery: {redact_urls(str(exc)) or type(exc).__name__}")

    try:
        return await _attempts(note, target, did, send, seen, policy, sleep, outcome)
    except asyncio.CancelledError:
        # Shut down mid-delivery: let the redelivered event try this target again.
        await _release(seen, did)
        raise


async def _attempts(
    note: Notification,
    target: Target,
    did: str,
    send: Send,
    seen: SeenStore,
    policy: RetryPolicy,
    sleep: Sleep,
    outcome: Callable[..., Outcome],
) -> Outcome:
    reason = ""
    attempt = 0
    while attempt < policy.attempts:
        attempt += 1
        try:
            async with asyncio.timeout(policy.attempt_timeout):
                await send(target, note, did)
        except SendError as exc:
            reason, retryable = str(exc), exc.retryable
        except TimeoutError:
            reason, retryable = f"{target.label}: no answer within {policy.attempt_timeout:g}s", True
        except Exception as exc:  # a bug in a channel must not take the other targets down
            reason, retryable = f"{target.label}: {type(exc).__name__}: {redact_urls(str(exc))}", True
        else:
            log.info("notification sent", delivery_id=did, target=target.label, attempts=attempt)
            return outcome("sent", attempt)
        log.warning("notification attempt failed", delivery_id=did, attempt=attempt, reason=reason)
        if not retryable:
            break
        if attempt < policy.attempts:
            await sleep(policy.delay(attempt))

    await _release(seen, did)
    return outcome("failed", attempt, reason)


async def _release(seen: SeenStore, did: str) -> None:
    try:
        await seen.release(did)
    except Exception as exc:
        # The dead letter still goes out; only its replay would be skipped as a duplicate.
        log.warning("cannot release delivery claim", delivery_id=did, error=type(exc).__name__)
