"""HTTP check, sent from outside the container, so an image without curl or wget is checked too.

A minimal HTTP/1.1 client over an injected ``connect``: httpx cannot ride an SSH channel, and a
health request needs only a status line, headers and (for a body match) a bounded body.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zpanel_health.checks.base import Connect, ProbeResult, close_quietly, open_tcp

MAX_RESPONSE = 256 * 1024
"""Bytes read at most: enough for any health page, bounded against an endless stream."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class BadResponse(ValueError):
    pass


CLOSED = "connection closed without an answer (is the app listening on that port yet?)"


def request_bytes(path: str, host_header: str, user_agent: str = "zpanel-health") -> bytes:
    if not path.startswith("/"):
        path = "/" + path
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")


def _dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


def parse_response(raw: bytes) -> HttpResponse:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep and not raw.startswith(b"HTTP/"):
        raise BadResponse(CLOSED if not raw else "the answer is not HTTP")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise BadResponse(f"the answer is not HTTP: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return HttpResponse(int(parts[1]), headers, body)


def judge(resp: HttpResponse, expected: tuple[int, int], body_contains: str | None, what: str) -> ProbeResult:
    low, high = expected
    if not low <= resp.status <= high:
        return ProbeResult(False, f"{what} answered {resp.status} (expected {low}-{high})")
    if body_contains is not None and body_contains.encode() not in resp.body:
        return ProbeResult(False, f"{what} answered {resp.status} but the body lacks {body_contains!r}")
    return ProbeResult(True, f"{what} answered {resp.status}")


def _complete(buf: bytes, need_body: bool) -> bool:
    """Whether enough has arrived to judge, so a server that ignores ``Connection: close`` cannot
    hold the probe until its timeout."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    if not need_body:
        return True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value.strip())
    return False


@dataclass(frozen=True)
class HttpCheck:
    host: str
    port: int
    path: str = "/"
    expected: tuple[int, int] = (200, 399)
    body_contains: str | None = None
    host_header: str | None = None
    connect: Connect = field(default=open_tcp)

    async def __call__(self) -> ProbeResult:
        what = f"GET {self.path}"
        try:
            reader, writer = await self.connect(self.host, self.port)
        except OSError as exc:
            return ProbeResult(False, f"{what}: cannot connect to {self.host}:{self.port}: {exc.strerror or exc}")
        try:
            writer.write(request_bytes(self.path, self.host_header or f"{self.host}:{self.port}"))
            buf = b""
            while len(buf) < MAX_RESPONSE and not _complete(buf, self.body_contains is not None):
                chunk = await reader.read(65536)
                if not chunk:
                    break
                buf += chunk
            return judge(parse_response(buf), self.expected, self.body_contains, what)
        except BadResponse as exc:
            return ProbeResult(False, f"{what}: {exc}")
        except ConnectionResetError:
            # Docker's userland proxy resets or closes at once when nothing listens behind it.
            return ProbeResult(False, f"{what}: {CLOSED}")
        except OSError as exc:
            return ProbeResult(False, f"{what}: connection failed: {exc.strerror or exc}")
        finally:
            close_quietly(writer)
