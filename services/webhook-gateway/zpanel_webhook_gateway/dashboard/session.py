"""Who is signed in, and the CSRF guard of every form.

The session is the API token itself, in the same HttpOnly, SameSite=Strict cookie the API and the
log WebSocket accept (``auth.COOKIE``), so the pages' scripts call the API with no token in reach
of JavaScript. Forms are guarded by a double-submit token: a random value in a second HttpOnly,
SameSite=Strict cookie that every form repeats in a hidden field; a POST whose field does not
match it (or that a browser marks as cross-site) is refused with 403 before anything happens.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from starlette.responses import Response

from zpanel_webhook_gateway.api.auth import COOKIE, Token, Tokens
from zpanel_webhook_gateway.api.deps import Deps, get_deps

CSRF_COOKIE = "zpanel_csrf"
CSRF_FIELD = "csrf"
SESSION_AGE_S = 7 * 86400
MAX_FORM_BYTES = 64 * 1024
CSRF_REFUSED = "this form is stale or did not come from this dashboard: reload the page and try again"


class SignInRequired(Exception):
    """No valid token cookie: the page answers with a redirect to the sign-in form."""


class CsrfRefused(Exception):
    """A POST without the form's CSRF token (or from another site): 403."""


@dataclass
class Page:
    """What a page handler needs: the request, the gateway's deps, the signed-in token, the CSRF
    value its forms carry. ``finish`` sets the CSRF cookie when this request made a new one."""

    request: Request
    deps: Deps
    token: Token | None
    csrf: str = ""
    fresh_csrf: bool = field(default=False)

    def finish(self, response: Response) -> Response:
        if self.fresh_csrf:
            set_cookie(self.request, response, CSRF_COOKIE, self.csrf)
        return response


def secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name, value, max_age=SESSION_AGE_S, path="/", httponly=True, samesite="strict", secure=secure(request)
    )


def clear_cookies(response: Response) -> None:
    for name in (COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="strict")


def csrf_of(request: Request) -> tuple[str, bool]:
    have = request.cookies.get(CSRF_COOKIE, "")
    if len(have) >= 32:
        return have, False
    return secrets.token_urlsafe(32), True


async def signed_in(request: Request, deps: Deps) -> Token:
    token = request.cookies.get(COOKIE)
    found = await Tokens(deps.bus).verify(token) if token else None
    if found is None:
        raise SignInRequired
    return found


async def member_page(request: Request, deps: Annotated[Deps, Depends(get_deps)]) -> Page:
    token = await signed_in(request, deps)
    csrf, fresh = csrf_of(request)
    return Page(request, deps, token, csrf, fresh)


async def visitor_page(request: Request, deps: Annotated[Deps, Depends(get_deps)]) -> Page:
    csrf, fresh = csrf_of(request)
    return Page(request, deps, None, csrf, fresh)


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded body of a POST, after the CSRF check (raises CsrfRefused)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise CsrfRefused(CSRF_REFUSED)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            raise CsrfRefused("the form is too large")
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = form.get(CSRF_FIELD, "")
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused(CSRF_REFUSED)
    return form


async def member_form(request: Request, deps: Annotated[Deps, Depends(get_deps)]) -> tuple[Page, dict[str, str]]:
    """A signed-in POST: sign-in is checked first (a stale session goes to the sign-in form), then CSRF."""
    page = await member_page(request, deps)
    return page, await read_form(request)


MemberPage = Annotated[Page, Depends(member_page)]
VisitorPage = Annotated[Page, Depends(visitor_page)]
MemberForm = Annotated[tuple[Page, dict[str, str]], Depends(member_form)]
