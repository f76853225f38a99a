"""``python -m zpanel_webhook_gateway``: the gateway service (see worker.py).

The event loop is uvloop's where it is installed (``uvicorn[standard]`` brings it): HTTP parsing,
socket I/O and callbacks cost less than on asyncio's own loop, and the gateway is the platform's
busiest process under a burst of webhooks (bench/gateway)."""

import asyncio
import contextlib

from zpanel.lazy import refuse_unused_extras

refuse_unused_extras()  # before structlog is imported: it would pull in rich (see zpanel.lazy)

from zpanel.service import run  # noqa: E402
from zpanel_webhook_gateway.worker import setup  # noqa: E402

if __name__ == "__main__":
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    run("webhook-gateway", setup)
