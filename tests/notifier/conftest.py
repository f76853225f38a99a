"""Real receivers on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP endpoint that verifies
Standard Webhooks signatures with the ``standardwebhooks`` package, as a user's receiver would."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from standardwebhooks import Webhook, WebhookVerificationError

from tests.harness.nats import free_port
from zpanel_notifier import signed


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    port: int
    mails: list[Mail] = field(default_factory=list)

    def url(self, to: str = "ops@example.com", sender: str = "zpanel@example.com") -> str:
        # mailto:// (not mailtos://) is plain SMTP, without STARTTLS: the local server has no TLS.
        return f"mailto://{sender}?smtp=127.0.0.1&port={self.port}&to={to}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    payload: Any  # the verified JSON, or None when the signature did not verify


@dataclass
class Receiver:
    url: str
    secret: str
    status: int = 204
    requests: list[Received] = field(default_factory=list)

    @property
    def verified(self) -> list[Any]:
        return [r.payload for r in self.requests if r.payload is not None]


def _serve(receiver: Receiver) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(receiver.secret).verify(body, headers)
            except WebhookVerificationError:
                payload = None
            receiver.requests.append(Received(headers, body, payload))
            status = receiver.status if payload is not None else 401
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/zpanel"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def make_receiver() -> Iterator[Any]:
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def make(status: int = 204) -> Receiver:
        receiver = Receiver(url="", secret=signed.new_secret(), status=status)
        started.append(_serve(receiver))
        return receiver

    yield make
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def closed_port_url() -> str:
    """An endpoint where nothing listens: the connection is refused."""
    return f"http://127.0.0.1:{free_port()}/hooks/zpanel"
