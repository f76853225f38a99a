"""The admin API token: made by ``up`` on first start, kept in stack.json, and registered in the
``tokens`` KV bucket under its sha256 (the gateway never stores the token itself)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats.js.errors

from zpanel.bus import Bus
from zpanel.settings import load

PREFIX = "zpt_"


def make() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def existing_or_new(previous: dict[str, Any] | None) -> str:
    token = (previous or {}).get("token")
    return str(token) if token else make()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record(token: str, now: datetime | None = None) -> dict[str, str]:
    h = digest(token)
    return {"id": "admin", "name": "admin", "hash": h, "created_at": (now or datetime.now(UTC)).isoformat()}


async def register(token: str, nats_url: str, home: Path) -> None:
    """Idempotent: the same token maps to the same key."""
    bus = await Bus.connect(load(home=home, nats_url=nats_url), name="zpanel-cli")
    try:
        try:
            kv = await bus.kv("tokens")
        except nats.js.errors.BucketNotFoundError:
            await bus.provision()
            kv = await bus.kv("tokens")
        h = digest(token)
        entry = None
        with contextlib.suppress(nats.js.errors.KeyNotFoundError):
            entry = await kv.get(h)
        if entry is None or not entry.value:
            await kv.put(h, json.dumps(record(token)).encode())
    finally:
        await bus.close()
