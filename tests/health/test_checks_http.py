"""HTTP check: request and response handling by exact value, then against real busybox httpd
containers, one of them in an image with no HTTP client (no curl, no wget, no shell)."""

from __future__ import annotations

import asyncio

import pytest

from zpanel_health.checks.base import ProbeResult
from zpanel_health.checks.http import BadResponse, HttpCheck, HttpResponse, judge, parse_response, request_bytes


def test_request_bytes_sets_host_and_closes():
    assert request_bytes("healthz", "app.example.com") == (
        b"GET /healthz HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: zpanel-health\r\n"
        b"Accept: */*\r\nConnection: close\r\n\r\n"
    )


def test_parse_response_with_headers_and_body():
    raw = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nX-A:  b \r\n\r\nstarting"
    assert parse_response(raw) == HttpResponse(503, {"content-type": "text/plain", "x-a": "b"}, b"starting")


def test_parse_response_dechunks():
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nread\r\n2;x=y\r\ny!\r\n0\r\n\r\n"
    assert parse_response(raw).body == b"ready!"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "connection closed without an answer (is the app listening on that port yet?)"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "the answer is not HTTP"),
        (b"HTTP/1.1 abc\r\n\r\n", "the answer is not HTTP: 'HTTP/1.1 abc'"),
    ],
)
def test_parse_response_rejects_non_http(raw, message):
    with pytest.raises(BadResponse) as info:
        parse_response(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("status", "body", "expected", "contains", "result"),
    [
        (200, b"ok", (200, 399), None, ProbeResult(True, "GET / answered 200")),
        (302, b"", (200, 399), None, ProbeResult(True, "GET / answered 302")),
        (404, b"", (200, 399), None, ProbeResult(False, "GET / answered 404 (expected 200-399)")),
        (204, b"", (204, 204), None, ProbeResult(True, "GET / answered 204")),
        (
            200,
            b"status: starting",
            (200, 299),
            "ready",
            ProbeResult(False, "GET / answered 200 but the body lacks 'ready'"),
        ),
        (200, b"status: ready", (200, 299), "ready", ProbeResult(True, "GET / answered 200")),
    ],
)
def test_judge(status, body, expected, contains, result):
    assert judge(HttpResponse(status, {}, body), expected, contains, "GET /") == result


async def test_server_ignoring_connection_close_is_judged_on_content_length():
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nready")
        await asyncio.sleep(30)  # keeps the connection open, as a keep-alive server would

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await asyncio.wait_for(HttpCheck("127.0.0.1", port, body_contains="ready")(), 5)
    finally:
        server.close()
    assert result == ProbeResult(True, "GET / answered 200")


async def test_host_header_reaches_the_app(container, until_passed):
    ref = container(cgi_host=True)
    right = HttpCheck(
        *ref.hostport, path="/cgi-bin/host", host_header="shop.example.test", body_contains="host=shop.example.test"
    )
    assert (await until_passed(right)).detail == "GET /cgi-bin/host answered 200"
    wrong = HttpCheck(
        *ref.hostport, path="/cgi-bin/host", host_header="other.test", body_contains="host=shop.example.test"
    )
    assert await wrong() == ProbeResult(
        False, "GET /cgi-bin/host answered 200 but the body lacks 'host=shop.example.test'"
    )


async def test_real_httpd_status_and_body(container, until_passed):
    host, port = container().hostport
    assert (await until_passed(HttpCheck(host, port, body_contains="zpanel test image"))).detail == "GET / answered 200"
    assert await HttpCheck(host, port, path="/missing")() == ProbeResult(
        False, "GET /missing answered 404 (expected 200-399)"
    )


async def test_image_without_any_http_client_is_checked_from_outside(container, no_client_image, run, until_passed):
    ref = container(image=no_client_image, cmd=[])
    for tool in ("curl", "wget", "sh"):
        done = run(["docker", "exec", ref.id, tool])
        assert "executable file not found" in done.stdout + done.stderr
    passed = await until_passed(HttpCheck(*ref.hostport, body_contains="no client here"))
    assert passed.detail == "GET / answered 200"


async def test_published_port_without_app_behind_fails(container):
    host, port = container(cmd=["sleep", "30"]).hostport
    assert await HttpCheck(host, port)() == ProbeResult(
        False, "GET /: connection closed without an answer (is the app listening on that port yet?)"
    )
