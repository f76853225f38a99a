"""The admin token: chosen once, kept, and valid in the gateway's own token store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.harness.nats import NatsServer
from zpanel.bus import Bus
from zpanel.cli import tokens
from zpanel.settings import load
from zpanel_webhook_gateway.api.auth import Tokens, digest


def test_the_token_is_kept_across_starts(tmp_path: Path) -> None:
    assert tokens.existing_or_new({"token": "zp_from-stack"}, tmp_path) == "zp_from-stack"
    (tmp_path / "admin-token").write_text("zp_from-gateway\n")
    assert tokens.existing_or_new(None, tmp_path) == "zp_from-gateway"
    fresh = tokens.existing_or_new(None, tmp_path / "empty")
    assert fresh.startswith("zp_") and len(fresh) == 46


def test_register_makes_the_token_valid_once(tmp_path: Path, nats_server: NatsServer) -> None:
    token = tokens.existing_or_new(None, tmp_path)
    assert asyncio.run(tokens.register(token, nats_server.url, tmp_path)) is True
    assert asyncio.run(tokens.register(token, nats_server.url, tmp_path)) is False

    async def stored() -> tuple[str | None, dict[str, str]]:
        bus = await Bus.connect(load(home=tmp_path, nats_url=nats_server.url))
        try:
            found = await Tokens(bus).verify(token)
            raw = (await (await bus.kv("tokens")).get(digest(token))).value
            return (found.name if found else None), json.loads(raw or b"{}")
        finally:
            await bus.close()

    name, record = asyncio.run(stored())
    assert name == "admin"
    assert sorted(record) == ["created_at", "id", "name"]  # the token itself is never stored
