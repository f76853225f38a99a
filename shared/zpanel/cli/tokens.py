"""The admin API token. ``up`` chooses it (first start: a new one; later: the one in stack.json or
the gateway's ``$ZPANEL_HOME/admin-token``), hands it to the gateway as ``ZPANEL_ADMIN_TOKEN``
(environment, never argv) and keeps it in stack.json. The gateway registers it on a fresh stack;
``register`` makes sure it is valid on an existing one too (same record format, through the
gateway's own ``Tokens``: sha256 key, no token stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nats.js.errors

from zpanel.bus import Bus
from zpanel.settings import load

GATEWAY_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a secret


def existing_or_new(previous: dict[str, Any] | None, home: Path) -> str:
    token = (previous or {}).get("token")
    if token:
        return str(token)
    try:
        written = (home / GATEWAY_TOKEN_FILE).read_text().strip()
    except OSError:
        written = ""
    if written:
        return written
    from zpanel_webhook_gateway.api.auth import new_token

    return new_token()


async def register(token: str, nats_url: str, home: Path) -> bool:
    """Make ``token`` a valid admin token unless it is one already; True when it was added."""
    from zpanel_webhook_gateway.api.auth import Tokens

    bus = await Bus.connect(load(home=home, nats_url=nats_url), name="zpanel-cli")
    try:
        try:
            await bus.kv("tokens")
        except nats.js.errors.BucketNotFoundError:  # an external NATS no service has provisioned yet
            await bus.provision()
        tokens = Tokens(bus)
        if await tokens.verify(token) is not None:
            return False
        await tokens.create("admin", token)
        return True
    finally:
        await bus.close()
