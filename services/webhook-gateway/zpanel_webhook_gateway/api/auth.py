"""API tokens: ``Authorization: Bearer TOKEN`` (or the dashboard's cookie holding the same token).

Tokens are stored only as their sha256 in the ``tokens`` bucket (key = hex digest, value = the
record without the token), so a copy of the bucket lets no one in. The admin token is made on the
first start of a fresh stack: the marker key ``admin`` (created with compare-and-set) makes sure
two gateways starting at once do not both make one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import nats.js.errors
from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from zpanel.bus import Bus
from zpanel.errors import Conflict, NotFound
from zpanel.models import utcnow
from zpanel.state import keys
from zpanel_webhook_gateway.api.deps import Deps, get_deps
from zpanel_webhook_gateway.api.errors import ApiError

BUCKET = "tokens"
ADMIN_MARKER = "admin"
COOKIE = "zpanel_token"
PREFIX = "zp_"
MISSING = "missing API token: send `Authorization: Bearer TOKEN` (the admin token is in $ZPANEL_HOME/stack.json)"
INVALID = "the API token is not valid (revoked or mistyped): use a token from `zpanel` or POST /api/v1/tokens"


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    created_at: datetime

    def view(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at.isoformat()}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


class Tokens:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def create(self, name: str, token: str | None = None) -> tuple[Token, str]:
        """A new token (or the given one): returns the record and the token, which is never stored."""
        token = token or new_token()
        record = Token(id=secrets.token_hex(6), name=name, created_at=utcnow())
        kv = await self.bus.kv(BUCKET)
        try:
            await kv.create(digest(token), _encode(record))
        except nats.js.errors.KeyWrongLastSequenceError as exc:
            raise Conflict("that token exists already") from exc
        return record, token

    async def verify(self, token: str | None) -> Token | None:
        if not token:
            return None
        kv = await self.bus.kv(BUCKET)
        try:
            entry = await kv.get(digest(token))
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return None
        return _decode(entry.value) if entry.value else None

    async def list(self) -> list[tuple[str, Token]]:
        kv = await self.bus.kv(BUCKET)
        out = []
        for key in await keys(kv):
            if key == ADMIN_MARKER:
                continue
            with contextlib.suppress(nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                entry = await kv.get(key)
                if entry.value:
                    out.append((key, _decode(entry.value)))
        out.sort(key=lambda kt: kt[1].created_at)
        return out

    async def delete(self, token_id: str) -> None:
        found = await self.list()
        match = [key for key, t in found if t.id == token_id]
        if not match:
            raise NotFound(f"no token {token_id!r}: GET /api/v1/tokens lists them")
        if len(found) == 1:
            raise Conflict("this is the last API token: create another first, or nobody could use the API")
        kv = await self.bus.kv(BUCKET)
        await kv.delete(match[0])


async def ensure_admin_token(bus: Bus, token: str | None = None) -> str | None:
    """Make the admin token on a fresh stack and return it (once); None when one was made before.
    ``token`` lets the supervisor choose it (it writes it to stack.json)."""
    kv = await bus.kv(BUCKET)
    try:
        await kv.get(ADMIN_MARKER)
        return None
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
        pass
    record, plain = await Tokens(bus).create("admin", token)
    try:
        await kv.create(ADMIN_MARKER, record.id.encode())
    except nats.js.errors.KeyWrongLastSequenceError:
        await kv.delete(digest(plain))  # another gateway won the race: its token is the admin's
        return None
    return plain


def _encode(t: Token) -> bytes:
    return json.dumps({"id": t.id, "name": t.name, "created_at": t.created_at.isoformat()}).encode()


def _decode(raw: bytes) -> Token:
    doc = json.loads(raw)
    return Token(id=doc["id"], name=doc["name"], created_at=datetime.fromisoformat(doc["created_at"]))


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def presented(authorization: str | None, cookie: str | None) -> str | None:
    """The token a request carries: the Bearer header first, then the dashboard's cookie."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""
    return cookie or None


bearer = HTTPBearer(auto_error=False, description="an API token (the admin token is in stack.json)")


async def require_token(
    request: Request,
    deps: Annotated[Deps, Depends(get_deps)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Token:
    token = presented(request.headers.get("authorization"), request.cookies.get(COOKIE))
    if token is None:
        raise ApiError(401, "unauthorized", MISSING, {"WWW-Authenticate": "Bearer"})
    # the cookie rides along with any request the browser makes: a changing request that
    # authenticates by cookie must come from our own pages (a site on another port is same-site)
    cross = request.headers.get("sec-fetch-site", "same-origin") != "same-origin"
    if not request.headers.get("authorization") and request.method not in SAFE_METHODS and cross:
        raise ApiError(403, "forbidden", "cross-origin request refused: send the token as a Bearer header")
    found = await Tokens(deps.bus).verify(token)
    if found is None:
        raise ApiError(401, "unauthorized", INVALID, {"WWW-Authenticate": "Bearer"})
    return found


async def websocket_token(websocket: WebSocket, deps: Deps) -> str | None:
    """Why a WebSocket may not go on (None: it may)."""
    token = presented(websocket.headers.get("authorization"), websocket.cookies.get(COOKIE))
    if token is None:
        return MISSING
    if await Tokens(deps.bus).verify(token) is None:
        return INVALID
    return None
