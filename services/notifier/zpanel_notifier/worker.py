"""The notifier stage: a terminal deployment event (or a preview torn down, a server unreachable)
becomes one message per interested target, each sent once however often the event is redelivered.

Targets that keep failing are dead-lettered one by one (``dlq.notifier``), never holding up the
others; ``zpanel dlq replay`` retries only the targets that failed, since the ones that received
the message keep their claim in the ``notifications`` bucket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json

import nats.js.errors
import structlog

from zpanel import subjects
from zpanel.bus import Bus, Delivery
from zpanel.bus.codec import msg_id_for
from zpanel.errors import RetryableError
from zpanel.events import DeadLetter, Event
from zpanel.models import preview_app, preview_parent
from zpanel.secrets import Cipher, redactor
from zpanel.settings import Settings
from zpanel.state import State
from zpanel_notifier.channels import Channels
from zpanel_notifier.delivery import RetryPolicy, deliver
from zpanel_notifier.messages import NOTIFIABLE, compose
from zpanel_notifier.targets import Target, load_targets, select

log = structlog.get_logger("zpanel.notifier")


class KvSeen:
    """Claims in the ``notifications`` bucket (TTL two days): create wins once, delete forgets."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def claim(self, key: str) -> bool:
        kv = await self.bus.kv("notifications")
        try:
            await kv.create(key, b"1")
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        return True

    async def release(self, key: str) -> None:
        kv = await self.bus.kv("notifications")
        with contextlib.suppress(nats.js.errors.KeyNotFoundError):
            await kv.delete(key)


class Notifier:
    def __init__(
        self, bus: Bus, settings: Settings, cipher: Cipher, channels: Channels, policy: RetryPolicy | None = None
    ) -> None:
        self.bus = bus
        self.policy = policy or RetryPolicy()
        self.settings = settings
        self.state = State(bus)
        self.cipher = cipher
        self.channels = channels
        self.seen = KvSeen(bus)
        specs = [line.strip() for line in settings.notify_urls.splitlines() if line.strip()]
        self.global_targets, errors = load_targets(specs)
        for error in errors:
            log.warning("notifier.bad_global_target", error=error)

    async def targets_for(self, event: Event) -> tuple[list[Target], str | None]:
        app_name = None
        targets = list(self.global_targets)
        if event.app_id:
            app = await self.state.apps.find(event.app_id)
            parent = preview_parent(event.app_id) if app is None else None
            if parent is not None:  # a preview is not stored: its application's targets apply
                found = await self.state.apps.find(parent[0])
                app = preview_app(found, parent[1]) if found is not None else None
            if app is not None:
                app_name = app.name
                for var in app.env:  # the app's secrets are masked in what is sent
                    if var.secret:
                        self.cipher.open(var.value)
                specs = [self.cipher.open(s) for s in app.notify]
                own, errors = load_targets(specs, app_id=event.app_id)
                for error in errors:
                    log.warning("notifier.bad_target", error=error)
                targets = own + targets
        return select(targets, event.type, event.app_id), app_name

    async def handle(self, event: Event, delivery: Delivery) -> None:
        if event.type not in NOTIFIABLE:
            return
        targets, app_name = await self.targets_for(event)
        if not targets:
            return
        note = compose(event, app_name, redact=redactor, dashboard_url=self.dashboard_url)
        # one notification per (event, target) even when the event was published twice
        note = dataclasses.replace(note, event_id=msg_id_for(event).replace(":", "_"))
        report = await deliver(note, targets, send=self.channels.send, seen=self.seen, policy=self.policy)
        for outcome in report.dead_letters:
            await self.bus.publish(
                DeadLetter(
                    stage="notifier",
                    subject=delivery.subject,
                    stream="PIPELINE",
                    stream_seq=delivery.stream_seq,
                    consumer=delivery.consumer,
                    reason=f"notification to {outcome.target} failed {outcome.attempts} times: {outcome.reason}",
                    num_delivered=delivery.num_delivered,
                    headers={"Zpanel-Delivery-Id": outcome.delivery_id, "Zpanel-Target": outcome.target},
                    data=json.dumps(event.model_dump(mode="json")),
                    deployment_id=event.deployment_id,
                    app_id=event.app_id,
                    server_id=event.server_id,
                ),
                msg_id=f"dlq:notify:{outcome.delivery_id}",
            )
        if report.incomplete:
            raise RetryableError("the notifications bucket did not answer; the event will be retried")

    @property
    def dashboard_url(self) -> str:
        base = self.settings.public_url or f"http://127.0.0.1:{self.settings.http_port}"
        return base.rstrip("/")

    async def start(self) -> None:
        await self.bus.consume(
            stage="notifier",
            subjects=[subjects.stage(t, "*") for t in NOTIFIABLE],
            stream="PIPELINE",
            handler=self.handle,
            concurrency=self.settings.stage_claims,
        )


async def setup(bus: Bus, settings: Settings) -> Notifier:
    channels = Channels()
    await channels.__aenter__()
    notifier = Notifier(bus, settings, Cipher.from_home(settings.home, settings.secret_key), channels)
    await notifier.start()
    return notifier
