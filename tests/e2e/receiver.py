"""A notification endpoint on 127.0.0.1, as a user's system would run one: it verifies each
request's Standard Webhooks signature with the published ``standardwebhooks`` library and keeps
what arrived, per path. A path can be told to hold its requests until released (to kill the
notifier while a request is in flight)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.harness.nats import free_port
from zpanel_notifier.signed import new_secret


@dataclass
class Arrival:
    path: str
    webhook_id: str
    body: bytes
    verified: bool
    document: dict[str, Any] | None


@dataclass
class Receiver:
    port: int
    secrets: dict[str, str] = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)
    holds: dict[str, tuple[threading.Event, threading.Event]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def target(self, name: str) -> str:
        """A notify URL for ``name`` with a new signing secret (kept here to verify with)."""
        self.secrets[name] = new_secret()
        return f"http://127.0.0.1:{self.port}/hook/{name}?zpanel_secret={self.secrets[name]}"

    def hold(self, name: str) -> tuple[threading.Event, threading.Event]:
        """(arrived, release): requests for ``name`` wait for ``release`` before the answer."""
        self.holds[name] = (threading.Event(), threading.Event())
        return self.holds[name]

    def of(self, name: str) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.path == f"/hook/{name}"]

    def wait(self, name: str, count: int = 1, timeout: float = 30.0) -> list[Arrival]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.of(name)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{count} notification(s) for {name} expected, {len(self.of(name))} arrived")

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        name = path.removeprefix("/hook/")
        secret = self.secrets.get(name)
        document = None
        verified = False
        if secret is not None:
            try:
                document = Webhook(secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                pass
        with self.lock:
            self.arrivals.append(Arrival(path, headers.get("webhook-id", ""), body, verified, document))
        held = self.holds.get(name)
        if held is not None:
            held[0].set()
            held[1].wait(30)
        return 204 if verified else 401


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    rec = Receiver(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            code = rec.handle(self.path.split("?", 1)[0], headers, body)
            with contextlib.suppress(OSError):  # the sender may be gone (killed mid-request)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", rec.port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        for _, release in rec.holds.values():
            release.set()
        server.shutdown()
        server.server_close()


def parsed(arrival: Arrival) -> dict[str, Any]:
    assert arrival.verified, f"the notification to {arrival.path} failed Standard Webhooks verification"
    assert arrival.document is not None
    return arrival.document
