"""Sign in with an API token (a form, so the token never rides in a URL), and sign out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from zpanel_webhook_gateway.api.auth import COOKIE, Tokens
from zpanel_webhook_gateway.dashboard.html import render
from zpanel_webhook_gateway.dashboard.layout import hidden_csrf, page_html
from zpanel_webhook_gateway.dashboard.routing import PageRoute
from zpanel_webhook_gateway.dashboard.session import (
    CSRF_COOKIE,
    Page,
    VisitorPage,
    clear_cookies,
    read_form,
    set_cookie,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NOT_VALID = (
    "That token is not valid (revoked or mistyped). The admin token is in $ZPANEL_HOME/stack.json; `zpanel` prints it."
)

FORM = """<section class="card signin">
<h1>Sign in to Zpanel</h1>
<p class="muted">Paste an API token. The admin token is printed by <code>make up</code> and kept in
<code>$ZPANEL_HOME/stack.json</code>; more come from <code>POST /api/v1/tokens</code>.</p>
{problem}
<form method="post" action="/signin">{csrf}
<input type="hidden" name="next" value="{next}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus spellcheck="false">
<button type="submit" class="primary">Sign in</button>
</form>
</section>"""


def safe_next(value: str | None) -> str:
    """Only a path of this site: never an open redirect to another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _form(page: Page, next_path: str, problem: str = "", status: int = 200) -> Response:
    body = render(
        FORM,
        csrf=hidden_csrf(page),
        next=next_path,
        problem=render('<p class="problem" role="alert">{p}</p>', p=problem) if problem else "",
    )
    return page_html(page, "Sign in", body, status=status)


@router.get("/signin")
async def signin_form(page: VisitorPage, next: str | None = None) -> Response:
    return _form(page, safe_next(next))


@router.post("/signin")
async def signin(request: Request, page: VisitorPage) -> Response:
    form = await read_form(request)
    token = form.get("token", "").strip()
    next_path = safe_next(form.get("next"))
    if not token or await Tokens(page.deps.bus).verify(token) is None:
        return _form(page, next_path, NOT_VALID, status=401)
    response = RedirectResponse(next_path, status_code=303)
    set_cookie(request, response, COOKIE, token)
    set_cookie(request, response, CSRF_COOKIE, secrets.token_urlsafe(32))  # a new session, a new CSRF value
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    await read_form(request)
    response = RedirectResponse("/signin", status_code=303)
    clear_cookies(response)
    return response
