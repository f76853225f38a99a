"""Following a deployment to its end: its log over the WebSocket
``/api/v1/deployments/{id}/logs/ws`` (replay, then live, then ``{"status": ...}``), the stage it is
in, and the terminal status. Falls back to polling ``GET .../logs`` when the WebSocket is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import connect

from zpanel.cli import output
from zpanel.cli.client import Api, seg
from zpanel.cli.errors import ApiError, CliError

TERMINAL_NAMES = frozenset({"succeeded", "failed", "rolled_back", "cancelled", "superseded"})
"""zpanel.models.TERMINAL spelled out: importing the models (pydantic) would slow every command."""


def ws_url(api_url: str, deployment_id: str) -> str:
    base = api_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{base}/api/v1/deployments/{seg(deployment_id)}/logs/ws"


class Printer:
    """Prints log lines, a header whenever the stage changes, and a spinner naming the stage."""

    def __init__(self, *, raw_json: bool, quiet: bool) -> None:
        self.raw_json = raw_json
        self.quiet = quiet
        self.stage: str | None = None
        self.console = output.console() if not quiet else output.err_console()
        self.status: Any = None
        self.stage_started = time.monotonic()
        if not raw_json and not quiet and self.console.is_terminal:
            self.status = self.console.status("waiting for the deployment to start…")
            self.status.start()

    def line(self, msg: dict[str, Any]) -> None:
        if self.raw_json:
            output.emit_line(msg)
            return
        if self.quiet:
            return
        stage = msg.get("stage")
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.monotonic()
            if self.console.is_terminal:
                self.console.rule(f"[bold]{stage}[/bold]", align="left")
            else:
                self.console.print(f"── {stage}", markup=False)
            if self.status is not None:
                self.status.update(f"{stage}…")
        self.console.print(msg.get("line", ""), markup=False, highlight=False)

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()


class _OutOfTime(Exception):
    """The caller's deadline passed before the deployment ended."""


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise _OutOfTime
    return left


def _ws_messages(api: Api, deployment_id: str, deadline: float | None) -> Iterator[dict[str, Any]]:
    url = ws_url(api.target.api_url, deployment_id)
    headers = {"Authorization": f"Bearer {api.target.token}"}
    with connect(url, additional_headers=headers, open_timeout=10, max_size=None) as ws:
        while True:
            try:
                raw = ws.recv(timeout=_remaining(deadline))
            except ConnectionClosed:
                return
            except TimeoutError:
                raise _OutOfTime from None
            yield json.loads(raw)


def _polled_messages(api: Api, deployment_id: str, interval: float, deadline: float | None) -> Iterator[dict[str, Any]]:
    seen = 0
    while True:
        _remaining(deadline)
        answer = api.get(f"/api/v1/deployments/{seg(deployment_id)}/logs")
        lines = answer.get("lines") or []
        yield from lines[seen:]
        seen = len(lines)
        if answer.get("final"):
            return
        time.sleep(interval)


def follow(
    api: Api,
    deployment_id: str,
    *,
    raw_json: bool = False,
    quiet: bool = False,
    poll_interval: float = 0.5,
    reconnects: int = 20,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Print the log until the deployment ends; return the deployment (API shape).

    A stream that drops before its final message (a gateway restart) is reopened; the replay's
    lines already printed are skipped."""
    printer = Printer(raw_json=raw_json, quiet=quiet)
    deadline = None if timeout is None else time.monotonic() + timeout
    state: dict[str, Any] = {"printed": 0, "final": None}

    def consume(messages: Iterator[dict[str, Any]]) -> None:
        for index, msg in enumerate(messages, start=1):
            if "status" in msg and "line" not in msg:
                state["final"] = str(msg["status"])
                return
            if index > state["printed"]:
                printer.line(msg)
                state["printed"] = index

    def current() -> dict[str, Any]:
        return dict(api.get(f"/api/v1/deployments/{seg(deployment_id)}"))

    try:
        polling = False
        deployment: dict[str, Any] = {}
        for _ in range(reconnects + 1):
            try:
                consume(
                    _polled_messages(api, deployment_id, poll_interval, deadline)
                    if polling
                    else _ws_messages(api, deployment_id, deadline)
                )
            except _OutOfTime:
                raise CliError(
                    f"deployment {deployment_id} has not ended after {timeout:.0f}s; "
                    f"follow it with `zpanel logs {deployment_id} --follow`"
                ) from None
            except InvalidStatus as exc:
                code = exc.response.status_code
                if code == 401:
                    raise ApiError("the API refused the token for the log stream: set ZPANEL_TOKEN", 401) from exc
                if code == 404 and _exists(api, deployment_id) is False:
                    raise ApiError(f"deployment {deployment_id} not found", 404) from exc
                polling = True
                continue
            except (OSError, WebSocketException, TimeoutError) as exc:
                if _exists(api, deployment_id) is None:
                    raise ApiError(
                        f"cannot follow the log at {api.target.api_url}: {exc}; is the stack running?"
                    ) from exc
            deployment = current()
            if state["final"] or deployment.get("status") in TERMINAL_NAMES:
                break
            time.sleep(poll_interval)
        # The stream may end a moment before the projection records the terminal status.
        deadline = time.monotonic() + 10
        while deployment.get("status") not in TERMINAL_NAMES and time.monotonic() < deadline:
            time.sleep(0.2)
            deployment = current()
        if state["final"] and deployment.get("status") not in TERMINAL_NAMES:
            deployment["status"] = state["final"]
        return deployment
    finally:
        printer.close()


def _exists(api: Api, deployment_id: str) -> bool | None:
    try:
        api.get(f"/api/v1/deployments/{seg(deployment_id)}")
    except ApiError as exc:
        return False if exc.status == 404 else None
    return True


def failure_reason(deployment: dict[str, Any]) -> str:
    status = deployment.get("status")
    error = deployment.get("error")
    if not error:
        failed = [s.get("name") for s in deployment.get("stages") or [] if s.get("status") == "failed"]
        error = f"the {failed[0]} stage failed" if failed else "no reason recorded"
    return f"deployment {deployment.get('id')} {status}: {error}"
