"""The load generator of bench/gateway, run as its own process: ``connections`` keep-alive HTTP/1.1
connections, each sending one signed GitHub push at a time (closed loop) for ``seconds`` after a
``warmup``, and one JSON line on stdout: answers by status, latencies, the rate.

A hand-rolled HTTP/1.1 client on asyncio streams, not httpx: on a 2-core machine shared with the
server under test, httpx's ~300 µs of client CPU per request would cap the bare endpoint's figure
and so flatter the ratio. Each request is a distinct delivery (its own ``X-GitHub-Delivery``), for
an application taken round-robin, with a fresh commit id in the body and its own signature.

    .venv/bin/python bench/gateway/load.py SPEC.json   (written by run.py)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "webhooks" / "github" / "push.json"
FIXTURE_REPO = b"Hello-World"
FIXTURE_COMMIT = b"6113728f27ae82c7b1a177c8d03f9e96e0adf246"


def repo_url(i: int) -> str:
    """The repository application ``i`` deploys, as the bodies below name it."""
    return f"https://github.com/Codertocat/bench-app-{i}.git"


@dataclass
class Target:
    body: bytes
    secret: bytes


class Requests:
    """Builds request ``n``: application ``n % len(apps)``, a new commit id, a new delivery id."""

    def __init__(self, port: int, secrets: list[str]) -> None:
        raw = FIXTURE.read_bytes()
        self.targets = [
            Target(raw.replace(FIXTURE_REPO, f"bench-app-{i}".encode()), s.encode()) for i, s in enumerate(secrets)
        ]
        self.host = f"127.0.0.1:{port}".encode()
        self.n = 0

    def next(self) -> bytes:
        t = self.targets[self.n % len(self.targets)]
        self.n += 1
        body = t.body.replace(FIXTURE_COMMIT, os.urandom(20).hex().encode())
        sig = hmac.new(t.secret, body, hashlib.sha256).hexdigest().encode()
        head = b"".join(
            [
                b"POST /webhooks/github HTTP/1.1\r\nHost: ",
                self.host,
                b"\r\nUser-Agent: GitHub-Hookshot/bench\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\n",
                b"X-GitHub-Delivery: ",
                str(uuid.uuid4()).encode(),
                b"\r\nX-Hub-Signature-256: sha256=",
                sig,
                b"\r\nContent-Length: ",
                str(len(body)).encode(),
                b"\r\n\r\n",
            ]
        )
        return head + body


async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def client(port: int, reqs: Requests, t_measure: float, t_end: float, out: dict[str, list]) -> None:  # type: ignore[type-arg]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (now := time.perf_counter()) < t_end:
            request = reqs.next()
            began = time.perf_counter()
            try:
                status = await one(reader, writer, request)
            except (OSError, asyncio.IncompleteReadError) as exc:
                status = 0
                out["errors"].append(type(exc).__name__)
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if status == 202:
                out["accepted"].append(1)
            if now >= t_measure:
                out["lat"].append(time.perf_counter() - began)
                out["status"].append(status)
    finally:
        writer.close()


async def main(spec: dict) -> dict:  # type: ignore[type-arg]
    reqs = Requests(spec["port"], spec["secrets"])
    start = time.perf_counter()
    t_measure, t_end = start + spec["warmup"], start + spec["warmup"] + spec["seconds"]
    out: dict[str, list] = {"lat": [], "status": [], "errors": [], "accepted": []}  # type: ignore[type-arg]
    await asyncio.gather(*(client(spec["port"], reqs, t_measure, t_end, out) for _ in range(spec["connections"])))
    elapsed = time.perf_counter() - t_measure
    lat = sorted(out["lat"])
    return {
        "requests": len(lat),
        "seconds": round(elapsed, 3),
        "by_status": {str(k): v for k, v in sorted(Counter(out["status"]).items())},
        "errors": dict(Counter(out["errors"])),
        "accepted_total": len(out["accepted"]),
        "latencies_ms": [round(x * 1000, 3) for x in lat],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))))
    sys.stdout.flush()
