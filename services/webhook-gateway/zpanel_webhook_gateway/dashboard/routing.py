"""Pages answer in HTML, whatever goes wrong: the API's JSON error handlers are for API clients.

``PageRoute`` wraps every dashboard route: no session → a redirect to the sign-in form (a script's
partial request gets a bare 401 and sends the browser there itself); a refused form → 403; a zpanel
error → a page with its message, which already says what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from zpanel.errors import BusError, Conflict, NotFound, PermanentError, ZpanelError
from zpanel_webhook_gateway.api.auth import COOKIE, Token, Tokens
from zpanel_webhook_gateway.api.deps import get_deps
from zpanel_webhook_gateway.dashboard.layout import error_html
from zpanel_webhook_gateway.dashboard.session import CsrfRefused, Page, SignInRequired, csrf_of

log = structlog.get_logger("zpanel.dashboard")

PARTIAL_HEADER = "x-zpanel-partial"
ERRORS: tuple[tuple[type[ZpanelError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Not possible now"),
    (PermanentError, 422, "Not valid"),
    (BusError, 503, "NATS is unreachable"),
)


def is_partial(request: Request) -> bool:
    return request.headers.get(PARTIAL_HEADER) == "1"


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin" if target == "/" else "/signin?next=" + quote(target, safe="")


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await inner(request)
            except SignInRequired:
                if is_partial(request):
                    return PlainTextResponse("sign in again", status_code=401)
                return RedirectResponse(sign_in_url(request), status_code=303)
            except CsrfRefused as exc:
                return await _error(request, 403, "Refused", str(exc))
            except ZpanelError as exc:
                for cls, status, title in ERRORS:
                    if isinstance(exc, cls):
                        return await _error(request, status, title, str(exc))
                log.error("dashboard.error", error_type=type(exc).__name__, error=str(exc))
                return await _error(request, 500, "Something failed", str(exc))

        return handle


async def _error(request: Request, status: int, title: str, message: str) -> Response:
    if is_partial(request):
        return PlainTextResponse(message, status_code=status)
    deps = get_deps(request)
    token: Token | None = None
    cookie = request.cookies.get(COOKIE)
    if cookie and status != 503:
        try:
            token = await Tokens(deps.bus).verify(cookie)
        except ZpanelError:
            token = None
    csrf, fresh = csrf_of(request)
    return error_html(Page(request, deps, token, csrf, fresh), status, title, message)
