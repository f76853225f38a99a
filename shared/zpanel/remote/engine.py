"""Sends a command's Engine API requests (``Command.engine``) over the local engine's unix socket
and answers with the exit code and output the docker CLI gives for the same argv, so the
deployer reads both alike (``parse_inspect``, "No such container", "is already in use").

``None`` from :meth:`Engine.perform` means the engine could not be reached before anything was
sent: the caller runs the argv instead.

Why not the docker SDK (which the gateway's server check uses): it is synchronous (requests), so
every call from the deployer's event loop would take a thread, and it loads ~6 MB more into an
idle service; httpx speaks the same API over the same socket from the loop, 3–10 ms a call.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zpanel.lazy import lazy_module
from zpanel.remote import engine_ops as E
from zpanel.remote.base import Result

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")  # loaded with the first command an idle deployer runs

DEFAULT_SOCKET = "/var/run/docker.sock"
CONNECT_TIMEOUT_S = 5.0  # a stop waits out its grace period: the caller's timeout bounds a call


def socket_path(environ: Mapping[str, str], home: Path | None = None) -> str | None:
    """The socket the docker CLI would use, when it is a local unix socket; None when the CLI
    talks elsewhere (DOCKER_HOST over TCP or SSH, a context of its own), so only it decides."""
    host = environ.get("DOCKER_HOST", "")
    if environ.get("DOCKER_CONTEXT") or _current_context(home or Path.home()):
        return None
    if host:
        return host.removeprefix("unix://") if host.startswith("unix://") else None
    return DEFAULT_SOCKET if os.path.exists(DEFAULT_SOCKET) else None


def _current_context(home: Path) -> str | None:
    try:
        config = json.loads((home / ".docker" / "config.json").read_text())
    except (OSError, ValueError):
        return None
    context = config.get("currentContext") if isinstance(config, dict) else None
    return context if context and context != "default" else None


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or response.text).strip()
    except ValueError:
        return response.text.strip() or f"HTTP {response.status_code}"


class Engine:
    def __init__(self, socket: str) -> None:
        self.socket = socket
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> httpx.AsyncClient:
        # one keep-alive connection pool per event loop (tests run several loops in one process)
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            transport = httpx.AsyncHTTPTransport(uds=self.socket)
            self._client = httpx.AsyncClient(
                transport=transport, base_url="http://docker", timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S)
            )
            self._loop = loop
        return self._client

    async def perform(self, op: E.Op, argv: list[str]) -> Result | None:
        try:
            return await self._perform(op, argv)
        except httpx.ConnectError:
            return None

    async def _perform(self, op: E.Op, argv: list[str]) -> Result:
        web = self.client()
        match op:
            case E.ListIds(params):
                r = await web.get("/containers/json", params=params)
                if r.status_code != 200:
                    return _failed(argv, 1, f"Error response from daemon: {_message(r)}")
                return _result(argv, 0, "".join(f"{c['Id']}\n" for c in r.json()))
            case E.Inspect(names):
                found, errors = [], []
                for name in names:
                    r = await web.get(f"/containers/{name}/json")
                    if r.status_code == 200:
                        found.append(r.json())
                    else:
                        errors.append(f"Error response from daemon: {_message(r)}")
                return _result(argv, 1 if errors else 0, json.dumps(found, indent=4) + "\n", errors)
            case E.Each(method, path, names, params):
                answers = await asyncio.gather(
                    *(web.request(method, path.format(name=n), params=params) for n in names)
                )
                errors = [f"Error response from daemon: {_message(r)}" for r in answers if r.status_code >= 400]
                done = "".join(f"{n}\n" for n, r in zip(names, answers, strict=True) if r.status_code < 400)
                return _result(argv, 1 if errors else 0, done, errors)
            case E.Run(name, body, env_file):
                return await self._run(web, argv, name, body, env_file)
            case E.ImageId(ref):
                r = await web.get(f"/images/{ref}/json")
                if r.status_code != 200:
                    missing = r.status_code == 404
                    return _failed(argv, 1, f"Error: No such image: {ref}" if missing else _message(r))
                return _result(argv, 0, f"{r.json()['Id']}\n")

    async def _run(
        self, web: httpx.AsyncClient, argv: list[str], name: str, body: Mapping[str, Any], env_file: str | None
    ) -> Result:
        full = dict(body)
        if env_file:
            try:
                text = await asyncio.to_thread(Path(env_file).read_text, encoding="utf-8")
                full["Env"] = E.env_lines(text, os.environ)
            except (OSError, ValueError) as exc:
                return _failed(argv, 125, f"docker: {exc}.")
        r = await web.post("/containers/create", params={"name": name}, json=full)
        if r.status_code != 201:
            return _failed(argv, 125, f"docker: Error response from daemon: {_message(r)}.")
        cid = r.json()["Id"]
        r = await web.post(f"/containers/{cid}/start")
        if r.status_code >= 400:
            return _failed(argv, 125, f"docker: Error response from daemon: {_message(r)}.")
        return _result(argv, 0, f"{cid}\n")

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def _result(argv: list[str], rc: int, out: str, errors: list[str] | None = None) -> Result:
    err = "".join(f"{line}\n" for line in errors or [])
    return Result(argv, rc, out.encode(), err.encode())


def _failed(argv: list[str], rc: int, error: str) -> Result:
    return _result(argv, rc, "", [error])
