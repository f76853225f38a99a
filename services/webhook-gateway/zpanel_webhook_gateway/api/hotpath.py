"""``POST /webhooks/{provider}`` as a bare ASGI endpoint, ahead of FastAPI.

:class:`zpanel_webhook_gateway.app.GatewayApp` hands these requests here before FastAPI's
middleware stack and router. The answers are those of the documented route (the same
``webhooks.handle``, errors through the same mapping); what is skipped is the per-request cost of
the generic layers — matching the path against every route, dependency solving, FastAPI's and
OpenTelemetry's ASGI middleware —, which in bench/gateway cost more than the whole decision.
The server span, when spans go anywhere (``tracing.traced``), continues a caller's
``traceparent``: a deployment's trace still starts at its webhook.
"""

from __future__ import annotations

from opentelemetry import trace
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from zpanel.telemetry import extract
from zpanel_webhook_gateway.api.deps import Deps
from zpanel_webhook_gateway.api.errors import response_for
from zpanel_webhook_gateway.api.tracing import TRACER, traced
from zpanel_webhook_gateway.api.webhooks import ROUTE, handle

PREFIX = "/webhooks/"
SPAN_NAME = f"POST {ROUTE}"
TRACE_HEADERS = ("traceparent", "tracestate", "baggage")


def served_here(scope: Scope) -> bool:
    """A POST to exactly ``/webhooks/<one segment>`` (anything else goes through FastAPI)."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path: str = scope["path"]
    return path.startswith(PREFIX) and len(path) > len(PREFIX) and "/" not in path[len(PREFIX) :]


async def serve(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    provider = scope["path"][len(PREFIX) :]
    deps: Deps = scope["app"].state.deps
    if not traced():
        response = await _answer(provider, request, deps)
    else:
        headers = request.headers
        with TRACER.start_as_current_span(
            SPAN_NAME,
            context=extract({k: headers[k] for k in TRACE_HEADERS if k in headers}),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": "POST", "http.route": ROUTE},
        ) as span:
            response = await _answer(provider, request, deps)
            span.set_attribute("http.response.status_code", response.status_code)
    await response(scope, receive, send)


async def _answer(provider: str, request: Request, deps: Deps) -> Response:
    priority = deps.conductor.priority
    priority.enter()
    try:
        return await handle(provider, request, deps)
    except Exception as exc:
        return response_for(exc)
    finally:
        priority.leave()
