"""The embedded stack exactly as users start it — ``zpanel up --detach --no-example`` under a
temporary ZPANEL_HOME on free ports — and what the end-to-end cases do with it: the HTTP API
(every answer kept, for the secret checks), applications deployed from local Git remotes through
signed GitHub webhooks, the supervisor's processes killed with SIGKILL and seen restarted."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.gitrepo import Remote, github_headers, push_payload
from tests.e2e.receiver import Receiver
from tests.harness.nats import free_port
from zpanel.cli import stackfile

ZPANEL = str(Path(sys.executable).parent / "zpanel")
TERMINAL = {"succeeded", "failed", "rolled_back", "cancelled", "superseded"}


def stack_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZPANEL_")}
    env.update(
        ZPANEL_HOME=str(home),
        ZPANEL_HTTP_PORT=str(free_port()),
        ZPANEL_NATS_PORT=str(free_port()),
        ZPANEL_PROXY_HTTP_PORT=str(free_port()),
        ZPANEL_PROXY_HTTPS_PORT=str(free_port()),
        ZPANEL_PROXY_BIND="127.0.0.1",
        ZPANEL_BASE_IMAGE_STATIC="zpanel-test/busybox:1",
        ZPANEL_ACK_WAIT_S="3",  # a killed worker's message comes back in seconds
        ZPANEL_RETRY_BASE_S="0.5",
        ZPANEL_LOG_FORMAT="json",
    )
    env.update(extra)
    return env


def until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g}s")
        time.sleep(interval)


class Stack:
    def __init__(self, home: Path, env: dict[str, str], doc: dict[str, Any]) -> None:
        self.home = home
        self.env = env
        self.doc = doc
        self.answers: list[str] = []
        self.app_ids: list[str] = []
        self.proxy_url = f"http://127.0.0.1:{env['ZPANEL_PROXY_HTTP_PORT']}"
        self.http = httpx.Client(
            base_url=doc["api_url"], headers={"Authorization": f"Bearer {doc['token']}"}, timeout=10
        )

    # --- the API ------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, *, within: float = 30.0, **kw: Any) -> httpx.Response:
        """One request; tried again while the gateway is down (killed, restarting) or answers 503."""
        deadline = time.monotonic() + within
        while True:
            try:
                r = self.http.request(method, path, json=body, **kw)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            self.answers.append(r.text)
            if r.status_code == 503 and time.monotonic() < deadline:  # NATS failing over: as told, later
                time.sleep(min(1.0, float(r.headers.get("Retry-After", "1"))))
                continue
            return r

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        r = self.call(method, path, body, **kw)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def register_local(self) -> None:
        self.ok("POST", "/api/v1/servers", {"name": "local", "kind": "local", "proxy": "traefik"})

    def create_app(self, name: str, remote: Remote, **fields: Any) -> dict[str, Any]:
        body = {
            "name": name,
            "repo": str(remote.bare),
            "branch": "main",
            "server": "local",
            "domains": [f"{name}.localhost"],
            "port": 8080,
            "build": "dockerfile",
            "health": {"path": "/", "interval": 0.2, "timeout": 2, "retries": 2, "start_period": 3},
        } | fields
        app = self.ok("POST", "/api/v1/applications", body)
        self.app_ids.append(app["id"])
        return dict(app)

    def webhook(self, app: dict[str, Any], remote: Remote, before: str, after: str, message: str) -> str:
        """The signed GitHub push webhook of a push: the one deployment id it queued."""
        payload = push_payload(remote, before, after, message)
        r = self.call(
            "POST", "/webhooks/github", content=payload, headers=github_headers(app["webhook_secret"], payload)
        )
        assert r.status_code == 202, r.text
        ids = r.json()["deployment_ids"]
        assert len(ids) == 1, ids
        return str(ids[0])

    def push(self, app: dict[str, Any], remote: Remote, files: dict[str, str], message: str) -> str:
        before, after = remote.push(files, message)
        return self.webhook(app, remote, before, after, message)

    def deployment(self, dep_id: str) -> dict[str, Any]:
        return dict(self.ok("GET", f"/api/v1/deployments/{dep_id}"))

    def wait_status(self, dep_id: str, wanted: set[str], timeout: float = 60.0) -> dict[str, Any]:
        """Poll until the status is one of ``wanted`` (or terminal, which fails unless wanted)."""
        seen: dict[str, Any] = {}

        def check() -> bool:
            seen.update(self.deployment(dep_id))
            if seen["status"] in TERMINAL and seen["status"] not in wanted:
                raise AssertionError(f"{dep_id} ended {seen['status']} waiting for {wanted}: {seen.get('error')}")
            return seen["status"] in wanted

        try:
            until(f"{dep_id} to be {'/'.join(sorted(wanted))}", check, timeout, 0.01)
        except AssertionError as exc:
            raise AssertionError(f"{exc} (last seen: {seen.get('status')}, error {seen.get('error')})") from None
        return seen

    def wait_done(self, dep_id: str, timeout: float = 90.0) -> dict[str, Any]:
        return self.wait_status(dep_id, TERMINAL, timeout)

    def logs(self, dep_id: str) -> list[str]:
        return [line["line"] for line in self.ok("GET", f"/api/v1/deployments/{dep_id}/logs")["lines"]]

    def page(self, domain: str, path: str = "/") -> httpx.Response:
        return httpx.get(f"{self.proxy_url}{path}", headers={"Host": domain}, timeout=10)

    # --- the supervisor's processes -------------------------------------------------------------

    def processes(self) -> dict[str, dict[str, Any]]:
        doc = stackfile.read(self.home) or {}
        return {s["name"]: s for s in doc.get("services", [])}

    def wait_ready(self, timeout: float = 60.0) -> None:
        until(
            "every process of the stack running",
            lambda: all(s["state"] == "running" and s["pid"] for s in self.processes().values()),
            timeout,
            0.05,
        )

    def kill(self, name: str) -> dict[str, Any]:
        """SIGKILL one supervised process; its stack.json entry from before."""
        entry = self.processes()[name]
        assert entry["state"] == "running" and entry["pid"], entry
        os.kill(entry["pid"], signal.SIGKILL)
        return entry

    def wait_restarted(self, name: str, before: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            now = self.processes()[name]
            fresh = now["pid"] not in (None, before["pid"]) and now["state"] == "running"
            return now if fresh and now["restarts"] == before["restarts"] + 1 else None

        return dict(until(f"the supervisor to restart {name}", check, timeout, 0.05))

    def log_text(self) -> dict[str, str]:
        return {p.name: p.read_text(errors="replace") for p in sorted((self.home / "logs").iterdir()) if p.is_file()}


def containers(label: str, value: str, *, running_only: bool = True) -> list[str]:
    argv = ["docker", "ps", "-q", "--no-trunc", "--filter", f"label={label}={value}"]
    if not running_only:
        argv.insert(2, "-a")
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()


def remove_app_containers(app_id: str) -> None:
    ids = containers("zpanel.app", app_id, running_only=False)
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def zpanel(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZPANEL, *args], env=env, capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def running_stack(home: Path, **extra_env: str) -> Iterator[Stack]:
    """``zpanel up --detach --no-example`` with ``local`` registered; ``zpanel down`` after, and
    the containers of every application the tests created removed (they outlive ``down``)."""
    env = stack_env(home, **extra_env)
    up = zpanel(env, "up", "--detach", "--no-example", "--json")
    stack: Stack | None = None
    try:
        assert up.returncode == 0, f"zpanel up failed: {up.stderr}"
        stack = Stack(home, env, json.loads(up.stdout))
        stack.register_local()
        yield stack
    finally:
        zpanel(env, "down", timeout=60)
        if stack is not None:
            stack.http.close()
            for app_id in stack.app_ids:
                remove_app_containers(app_id)


def new_app(stack: Stack, notes: Receiver, root: Path, prefix: str, **fields: Any) -> tuple[dict[str, Any], Remote]:
    """An application of its own (a fresh name, Git remote and notification target)."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    remote = Remote.create(root / name)
    app = stack.create_app(name, remote, notify=[notes.target(name)], **fields)
    return app, remote
