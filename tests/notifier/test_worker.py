"""The notifier stage on real NATS: a terminal event reaches the app's signed endpoint once, with
secrets masked, even when the event is published again after the dedupe window."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.harness.nats import NatsServer
from tests.shared.conftest import fast_settings
from zpanel.bus import Bus, list_letters
from zpanel.events import DeploymentFailed
from zpanel.models import Application, EnvVar
from zpanel.secrets import Cipher
from zpanel.state import State
from zpanel_notifier.channels import Channels
from zpanel_notifier.delivery import RetryPolicy
from zpanel_notifier.worker import Notifier


async def test_failed_deployment_notifies_once_with_secrets_masked(
    own_nats: NatsServer, make_receiver: Any, closed_port_url: str, tmp_path: Path
) -> None:
    receiver = make_receiver()
    settings = fast_settings(own_nats.url, home=tmp_path, public_url="http://zpanel.test")
    bus = await Bus.connect(settings, name="notifier-test")
    await bus.provision()
    cipher = Cipher.from_home(tmp_path)
    canary = "canary-db-pass-5150"
    app = Application(
        id="app1",
        name="shop",
        repo="https://git.example.com/acme/shop.git",
        server="local",
        env=[EnvVar(key="DB_PASSWORD", value=cipher.seal(canary), secret=True)],
        notify=[
            cipher.seal(f"{receiver.url}?zpanel_secret={receiver.secret}"),
            cipher.seal(f"{closed_port_url}?zpanel_events=failed&zpanel_secret={receiver.secret}"),
        ],
    )
    await State(bus).create_app(app)
    async with Channels(timeout=2.0) as channels:
        notifier = Notifier(
            bus,
            settings,
            cipher,
            channels,
            RetryPolicy(attempts=3, first_delay=0.05, max_delay=0.1, attempt_timeout=2.0),
        )
        await notifier.start()
        event = DeploymentFailed(
            deployment_id="dep1",
            app_id="app1",
            server_id="local",
            commit="a" * 40,
            reason=f"pre-deploy command failed: could not connect with password {canary}",
            log_tail=[f"DB_PASSWORD={canary}", "exit 1"],
        )
        await bus.publish(event)
        for _ in range(200):
            if receiver.verified:
                break
            await asyncio.sleep(0.05)
        # the same event again under another message id (past the dedupe window): no second message
        await bus.publish(event.model_copy(update={"event_id": "again"}), msg_id="redelivered")
        letters: list[Any] = []
        for _ in range(400):
            letters = [d for _, d in await list_letters(bus) if d.stage == "notifier"]
            if letters:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    assert len(receiver.verified) == 1
    doc = receiver.verified[0]
    assert doc["status"] == "failed" and doc["deployment_id"] == "dep1" and doc["app"] == "shop"
    assert canary not in str(receiver.requests[0].body)
    assert "********" in doc["reason"]
    assert len(letters) == 1  # the closed port, dead-lettered once; the live endpoint unaffected
    assert letters[0].reason.startswith("notification to ")
    assert receiver.secret not in letters[0].reason and receiver.secret not in letters[0].data
    await bus.close()


async def test_preview_deployment_uses_its_applications_targets(
    own_nats: NatsServer, make_receiver: Any, tmp_path: Path
) -> None:
    receiver = make_receiver()
    settings = fast_settings(own_nats.url, home=tmp_path)
    bus = await Bus.connect(settings, name="notifier-preview-test")
    await bus.provision()
    cipher = Cipher.from_home(tmp_path)
    app = Application(
        id="app2",
        name="shop",
        repo="https://git.example.com/acme/shop.git",
        server="local",
        notify=[cipher.seal(f"{receiver.url}?zpanel_secret={receiver.secret}")],
    )
    await State(bus).create_app(app)
    async with Channels(timeout=2.0) as channels:
        notifier = Notifier(bus, settings, cipher, channels, RetryPolicy(attempts=2, first_delay=0.05))
        await notifier.start()
        # a preview's deployments carry the preview's own id, which is not stored
        await bus.publish(
            DeploymentFailed(
                deployment_id="dep-pr",
                app_id="app2-pr-7",
                server_id="local",
                commit="b" * 40,
                reason="health check failed",
            )
        )
        for _ in range(200):
            if receiver.verified:
                break
            await asyncio.sleep(0.05)
    await bus.close()
    assert len(receiver.verified) == 1
    assert receiver.verified[0]["app"] == "shop-pr-7"
    assert receiver.verified[0]["deployment_id"] == "dep-pr"
