from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.notifier.conftest import Mailbox, Receiver
from zpanel.events import DeploymentFailed, DeploymentSucceeded
from zpanel_notifier.channels import Channels
from zpanel_notifier.delivery import (
    MemorySeenStore,
    Outcome,
    RetryPolicy,
    deliver,
    delivery_id,
)
from zpanel_notifier.errors import SendError
from zpanel_notifier.messages import Notification, compose
from zpanel_notifier.targets import Target, parse_target

WHEN = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
A = parse_target("ntfy://ntfy.example.com/a", app_id="app1")
B = parse_target("ntfy://ntfy.example.com/b", app_id="app1")


def note(event_id: str = "ev1") -> Notification:
    event = DeploymentSucceeded(
        event_id=event_id, timestamp=WHEN, deployment_id="dep1", app_id="app1", server_id="local", duration_s=2.0
    )
    return compose(event, "shop", redact=lambda s: s)


class Script:
    """A fake channel: each target fails the given number of times (with the given error)
    before it succeeds; records every call."""

    def __init__(self, failures: dict[str, int], error: SendError | None = None) -> None:
        self.failures = failures
        self.error = error or SendError("boom")
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, target: Target, n: Notification, did: str) -> None:
        self.calls.append((target.key, did))
        if self.failures.get(target.key, 0) > 0:
            self.failures[target.key] -= 1
            raise self.error


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_delivery_id_is_stable_per_event_and_destination() -> None:
    assert delivery_id("ev1", A) == delivery_id("ev1", parse_target(A.url, app_id="other"))
    assert len({delivery_id("ev1", A), delivery_id("ev2", A), delivery_id("ev1", B)}) == 3
    assert delivery_id("ev1", A).startswith("ntf_") and len(delivery_id("ev1", A)) == 36


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(first_delay=1, factor=2, max_delay=5)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


async def test_retries_with_backoff_then_sends() -> None:
    send, sleeps, seen = Script({A.key: 2}), Sleeps(), MemorySeenStore()
    report = await deliver(note(), [A], send=send, seen=seen, sleep=sleeps)
    did = delivery_id("ev1", A)
    assert report.outcomes == (Outcome("sent", did, A.label, A.key, "ev1", "deployment.succeeded", "app1", attempts=3),)
    assert sleeps.delays == [1.0, 2.0]
    assert send.calls == [(A.key, did)] * 3
    assert seen.keys == {did}


async def test_a_target_that_keeps_failing_is_dead_lettered_and_released() -> None:
    send, sleeps, seen = Script({A.key: 99}), Sleeps(), MemorySeenStore()
    report = await deliver(note(), [A, B], send=send, seen=seen, policy=RetryPolicy(attempts=4), sleep=sleeps)
    failed, sent = report.outcomes
    assert (failed.status, failed.attempts, failed.reason) == ("failed", 4, "boom")
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert report.dead_letters == [failed]
    assert report.incomplete is False
    assert sleeps.delays == [1.0, 2.0, 4.0]
    assert seen.keys == {delivery_id("ev1", B)}  # A's claim released: replaying the event retries A only
    assert failed.document() == {
        "delivery_id": delivery_id("ev1", A),
        "event_id": "ev1",
        "event_type": "deployment.succeeded",
        "app_id": "app1",
        "target": A.label,
        "target_key": A.key,
        "attempts": 4,
        "reason": "boom",
    }


async def test_a_permanent_refusal_is_not_retried() -> None:
    send, sleeps = Script({A.key: 1}, SendError("HTTP 410", retryable=False)), Sleeps()
    report = await deliver(note(), [A], send=send, seen=MemorySeenStore(), sleep=sleeps)
    assert [(o.status, o.attempts, o.reason) for o in report.outcomes] == [("failed", 1, "HTTP 410")]
    assert sleeps.delays == []


async def test_a_redelivered_event_sends_once() -> None:
    send, seen = Script({}), MemorySeenStore()
    first = await deliver(note(), [A, B], send=send, seen=seen, sleep=Sleeps())
    again = await deliver(note(), [A, B], send=send, seen=seen, sleep=Sleeps())
    assert [o.status for o in first.outcomes] == ["sent", "sent"]
    assert [o.status for o in again.outcomes] == ["duplicate", "duplicate"]
    assert len(send.calls) == 2


async def test_concurrent_redeliveries_send_once() -> None:
    send, seen = Script({}), MemorySeenStore()
    reports = await asyncio.gather(*(deliver(note(), [A], send=send, seen=seen, sleep=Sleeps()) for _ in range(5)))
    assert sorted(r.outcomes[0].status for r in reports) == ["duplicate"] * 4 + ["sent"]
    assert len(send.calls) == 1


async def test_a_hanging_target_times_out_per_attempt() -> None:
    async def hang(target: Target, n: Notification, did: str) -> None:
        await asyncio.Event().wait()

    policy = RetryPolicy(attempts=2, attempt_timeout=0.01)
    report = await deliver(note(), [A], send=hang, seen=MemorySeenStore(), policy=policy, sleep=Sleeps())
    assert [(o.status, o.attempts, o.reason) for o in report.outcomes] == [
        ("failed", 2, f"{A.label}: no answer within 0.01s")
    ]


async def test_a_crashing_channel_is_a_failed_attempt() -> None:
    async def crash(target: Target, n: Notification, did: str) -> None:
        raise RuntimeError("bad state near https://u:pw@x.example.com/tok")

    report = await deliver(note(), [A], send=crash, seen=MemorySeenStore(), policy=RetryPolicy(attempts=1))
    assert report.outcomes[0].reason == f"{A.label}: RuntimeError: bad state near https://***@x.example.com/…"


async def test_a_seen_store_that_fails_leaves_the_event_incomplete() -> None:
    class Down(MemorySeenStore):
        async def claim(self, key: str) -> bool:
            raise ConnectionError("nats: no responders")

    send = Script({})
    report = await deliver(note(), [A], send=send, seen=Down(), sleep=Sleeps())
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("error", "cannot record the delivery: nats: no responders")
    ]
    assert report.incomplete is True
    assert report.dead_letters == []
    assert send.calls == []


async def test_cancelling_mid_delivery_releases_the_claim() -> None:
    started = asyncio.Event()

    async def slow(target: Target, n: Notification, did: str) -> None:
        started.set()
        await asyncio.Event().wait()

    seen = MemorySeenStore()
    task = asyncio.create_task(deliver(note(), [A], send=slow, seen=seen))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen.keys == set()


# --- with real receivers ------------------------------------------------------------------------


async def test_real_targets_failing_ones_dead_lettered_others_delivered_once(
    mailbox: Mailbox, make_receiver, closed_port_url: str
) -> None:
    good: Receiver = make_receiver()
    broken: Receiver = make_receiver(status=500)
    targets = [
        parse_target(mailbox.url(), app_id="app1"),
        parse_target(f"{good.url}?zpanel_secret={good.secret}", app_id="app1"),
        parse_target(f"{broken.url}?zpanel_secret={broken.secret}", app_id="app1"),
        parse_target(f"{closed_port_url}?zpanel_secret={good.secret}", app_id="app1"),
    ]
    event = DeploymentFailed(
        event_id="ev-real", deployment_id="dep9", app_id="app1", server_id="local", reason="build failed"
    )
    n = compose(event, "shop", redact=lambda s: s)
    seen, sleeps = MemorySeenStore(), Sleeps()
    policy = RetryPolicy(attempts=3, attempt_timeout=10)
    async with Channels(timeout=10) as channels:
        report = await deliver(n, targets, send=channels.send, seen=seen, policy=policy, sleep=sleeps)
        again = await deliver(n, targets, send=channels.send, seen=seen, policy=policy, sleep=sleeps)

    assert [(o.status, o.attempts) for o in report.outcomes] == [("sent", 1), ("sent", 1), ("failed", 3), ("failed", 3)]
    assert [o.reason for o in report.dead_letters] == [
        f"{targets[2].label}: the receiver answered HTTP 500",
        f"{targets[3].label}: cannot deliver (All connection attempts failed)",
    ]
    assert sorted(sleeps.delays) == [1.0] * 4 + [2.0] * 4  # two failing targets, two rounds each
    # The redelivered event: the two that got it are skipped; the failed ones are tried again.
    assert [o.status for o in again.outcomes] == ["duplicate", "duplicate", "failed", "failed"]
    assert [m.message["Subject"] for m in mailbox.mails] == ["shop: deployment failed"]
    assert good.verified == [n.document]
    # Every attempt at the broken receiver was signed and carried the same webhook-id.
    assert len(broken.verified) == 6
    assert {r.headers["webhook-id"] for r in broken.requests} == {delivery_id("ev-real", targets[2])}


async def test_a_failing_target_never_holds_up_the_others(mailbox: Mailbox, closed_port_url: str) -> None:
    """The failing target's backoff waits until the mail has arrived: were targets delivered one
    after another, the mail would wait for that backoff and the delivery would never finish."""
    mail = parse_target(mailbox.url())
    dead = parse_target(f"{closed_port_url}?zpanel_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    mailed = asyncio.Event()

    async with Channels(timeout=10) as channels:

        async def send(target: Target, n: Notification, did: str) -> None:
            await channels.send(target, n, did)
            if target is mail:
                mailed.set()

        async def sleep(seconds: float) -> None:
            await mailed.wait()

        report = await asyncio.wait_for(
            deliver(note(), [dead, mail], send=send, seen=MemorySeenStore(), sleep=sleep), timeout=10
        )
    assert [o.status for o in report.outcomes] == ["failed", "sent"]
    assert len(mailbox.mails) == 1
