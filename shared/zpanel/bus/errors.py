"""Transport errors, converted to zpanel errors at this boundary."""

from __future__ import annotations

import asyncio

import nats.errors
import nats.js.errors

from zpanel.errors import BusError

# Worth retrying: no stream leader yet (election), a timeout, a connection in reconnect.
TRANSIENT: tuple[type[BaseException], ...] = (
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,
    nats.errors.TimeoutError,
    asyncio.TimeoutError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionClosedError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    # 503 "JetStream system temporarily unavailable" / cluster not ready during an election
    return isinstance(exc, nats.js.errors.ServiceUnavailableError)


def unreachable(what: str, exc: BaseException) -> BusError:
    return BusError(
        f"NATS did not answer while trying to {what}: {type(exc).__name__}. Check ZPANEL_NATS_URL and that nats-server runs"
    )
