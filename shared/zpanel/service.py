"""Start-up shared by the six services: settings, telemetry, bus, provisioning, the dead-letter
mover, a ping responder for the supervisor, and a graceful drain on SIGTERM/SIGINT.

A service's ``__main__`` is one line: ``run("builder", setup)`` where ``setup(bus, settings)``
starts its consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from zpanel.bus import AdvisoryMover, Bus
from zpanel.errors import SettingsError, ZpanelError
from zpanel.settings import Settings, load
from zpanel.telemetry import configure

Setup = Callable[[Bus, Settings], Awaitable[Any]]


def ping_subject(service: str) -> str:
    return f"zpanel.ping.{service}"


async def serve(name: str, setup: Setup, settings: Settings | None = None) -> None:
    settings = settings or load()
    configure(name, settings.log_format, settings.log_level)
    log = structlog.get_logger("zpanel.service").bind(service=name)
    bus = await Bus.connect(settings, name=name)
    await bus.provision()
    mover = AdvisoryMover(bus)
    await mover.start()
    started = time.time()

    async def pong(msg: Any) -> None:
        await msg.respond(json.dumps({"name": name, "pid": os.getpid(), "uptime_s": time.time() - started}).encode())

    await bus.nc.subscribe(ping_subject(name), cb=pong)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    extra = await setup(bus, settings)
    log.info("service.ready", pid=os.getpid())
    await stop.wait()
    log.info("service.draining")
    await mover.stop()
    if extra is not None and hasattr(extra, "stop"):
        with contextlib.suppress(Exception):
            await extra.stop()
    await bus.close()
    log.info("service.stopped")


def run(name: str, setup: Setup) -> None:
    try:
        asyncio.run(serve(name, setup))
    except SettingsError as exc:
        print(f"zpanel-{name}: {exc}", file=sys.stderr)
        sys.exit(2)
    except ZpanelError as exc:
        print(f"zpanel-{name}: {exc}", file=sys.stderr)
        sys.exit(1)
