"""Per-service NATS users: each may publish only its own subjects; the server refuses the rest."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from tests.harness.nats import NatsServer
from zpanel import permissions
from zpanel.bus import Bus
from zpanel.errors import BusError
from zpanel.events import BuildDone
from zpanel.settings import load

ROOT = Path(__file__).resolve().parents[2]


def test_committed_permissions_file_is_current() -> None:
    committed = (ROOT / "deploy" / "nats" / "permissions.conf").read_text()
    assert committed == permissions.render_conf(), (
        "run: .venv/bin/python -m zpanel.permissions > deploy/nats/permissions.conf"
    )


def test_builder_may_emit_build_events_and_notifier_may_not() -> None:
    assert "build.done.*" in permissions.permissions("builder")["publish"]["allow"]
    assert "build.done.*" not in permissions.permissions("notifier")["publish"]["allow"]
    with pytest.raises(ValueError, match="unknown service 'web'"):
        permissions.permissions("web")


async def test_server_refuses_a_forbidden_publish(tmp_path: Path) -> None:
    (tmp_path / "permissions.conf").write_text(permissions.render_conf())
    passwords = {"ZPANEL_NATS_PASSWORD_" + s.upper().replace("-", "_"): f"pw-{s}" for s in permissions.SERVICES}
    server = NatsServer(store=tmp_path / "js", extra_config='include "permissions.conf"\n', env=passwords)
    server.start()
    try:

        def settings(service: str):  # type: ignore[no-untyped-def]
            return load(
                nats_url=server.url,
                nats_user=permissions.user_name(service),
                nats_password=f"pw-{service}",
                ack_wait_s=1.0,
            )

        builder = await Bus.connect(settings("builder"), name="builder")
        await builder.provision()
        event = BuildDone(deployment_id="d1", app_id="a", server_id="s1", image="i")
        assert await builder.publish(event) == 1

        violations: list[str] = []

        async def on_error(exc: Exception) -> None:
            violations.append(str(exc))

        nc = await nats.connect(
            server.url, user="zpanel-notifier", password="pw-notifier", error_cb=on_error, max_reconnect_attempts=0
        )
        notifier = Bus(nc, settings("notifier"), "notifier")
        with pytest.raises(BusError):
            await notifier._retrying("publish", lambda: notifier.js.publish("build.done.s1", b"{}"), budget=1.0)
        await asyncio.sleep(0.1)
        assert violations == ['nats: permissions violation for publish to "build.done.s1"']
        info = await builder.js.stream_info("PIPELINE")
        assert info.state.messages == 1  # the refused message was never stored
        await notifier.close()
        await builder.close()
    finally:
        server.stop()
