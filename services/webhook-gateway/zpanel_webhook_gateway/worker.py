"""The gateway service: the projection (writes deployment records), the intake (triggers become
deployments), the sweeper (deadlines) and the HTTP server, all in one event loop.

On a fresh stack the admin API token is made here (``ZPANEL_ADMIN_TOKEN`` lets the supervisor
choose it) and written once to ``$ZPANEL_HOME/admin-token`` (0600); it never appears in a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import structlog
import uvicorn

from zpanel.bus import Bus
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.state import State
from zpanel_webhook_gateway.api.auth import ensure_admin_token
from zpanel_webhook_gateway.api.deps import Limits
from zpanel_webhook_gateway.api.servercheck import SshServerChecker
from zpanel_webhook_gateway.app import create_app
from zpanel_webhook_gateway.conductor import Conductor
from zpanel_webhook_gateway.intake import Intake
from zpanel_webhook_gateway.projection import Projection
from zpanel_webhook_gateway.sweeper import Sweeper

log = structlog.get_logger("zpanel.gateway")
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a token


class Server(uvicorn.Server):
    """uvicorn without its own signal handlers: ``zpanel.service`` owns SIGTERM and drains in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Gateway:
    def __init__(self, server: Server, task: asyncio.Task[None], sweeper: Sweeper) -> None:
        self.server = server
        self.task = task
        self.sweeper = sweeper

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 10)
        await self.sweeper.stop()


def write_admin_token(home: Path, token: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / ADMIN_TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return path


async def setup(bus: Bus, settings: Settings) -> Gateway:
    state = State(bus)
    conductor = Conductor(bus, state)
    cipher = Cipher.from_home(settings.home, settings.secret_key)
    await Projection(bus, conductor).start()
    await Intake(bus, conductor).start()
    sweeper = Sweeper(bus, state)
    await sweeper.start()
    token = await ensure_admin_token(bus, os.environ.get("ZPANEL_ADMIN_TOKEN") or None)
    if token is not None:
        path = write_admin_token(settings.home, token)
        log.info("gateway.admin_token_created", file=str(path))
    limits = Limits(max_open_per_server=settings.max_open_per_server, retry_after_s=settings.retry_after_s)
    app = create_app(bus, state, conductor, cipher, settings, limits=limits, server_checker=SshServerChecker())
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="off",
        http="httptools",  # the C parser (uvicorn[standard]); "auto" picks it too, this says so
        ws="websockets-sansio",
        timeout_graceful_shutdown=5,
    )
    server = Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the port is taken or the host is wrong: fail the start-up with why
            raise RuntimeError(f"the HTTP server stopped during start-up on {settings.http_host}:{settings.http_port}")
        await asyncio.sleep(0.02)
    log.info("gateway.listening", url=f"http://{settings.http_host}:{settings.http_port}")
    return Gateway(server, task, sweeper)
