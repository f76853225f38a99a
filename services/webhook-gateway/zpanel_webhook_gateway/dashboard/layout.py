"""The page shell (head, navigation, sign-out), error pages, and the headers every page carries."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from zpanel_webhook_gateway.dashboard.html import Safe, esc, render
from zpanel_webhook_gateway.dashboard.session import CSRF_FIELD, Page
from zpanel_webhook_gateway.dashboard.static import asset_url

NAV = (("/", "Applications"), ("/servers", "Servers"), ("/dlq", "Dead letters"))

# No inline script or style anywhere: the CSP allows only this origin's files.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Zpanel</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%232f6fed'/%3E%3C/svg%3E">
<link rel="stylesheet" href="{css}">
<script src="{js}" defer></script>
</head>
<body>
<header class="top">
<a class="brand" href="/">Zpanel</a>
<nav>{nav}</nav>
{signout}
</header>
<main>
{flash}{body}
</main>
</body>
</html>
"""


def hidden_csrf(page: Page) -> Safe:
    return render('<input type="hidden" name="{name}" value="{value}">', name=CSRF_FIELD, value=page.csrf)


def button_form(
    page: Page, action: str, label: str, *, cls: str = "", confirm: str = "", extra: Safe = Safe("")
) -> Safe:
    """A POST form of one button (plus ``extra`` fields), carrying the CSRF token."""
    return render(
        '<form method="post" action="{action}" class="inline"{confirm}>{csrf}{extra}'
        '<button type="submit" class="{cls}">{label}</button></form>',
        action=action,
        csrf=hidden_csrf(page),
        extra=extra,
        cls=cls,
        label=label,
        confirm=render(' data-confirm="{c}"', c=confirm) if confirm else Safe(""),
    )


def page_html(page: Page, title: str, body: Safe, *, flash: str = "", status: int = 200) -> HTMLResponse:
    path = page.request.url.path
    nav = [
        render(
            '<a href="{href}"{current}>{label}</a>',
            href=href,
            label=label,
            current=Safe(' aria-current="page"') if _here(path, href) else Safe(""),
        )
        for href, label in NAV
    ]
    signout = button_form(page, "/signout", "Sign out", cls="link") if page.token is not None else Safe("")
    doc = render(
        SHELL,
        title=title,
        css=asset_url("dashboard.css"),
        js=asset_url("dashboard.js"),
        nav=Safe("".join(nav)) if page.token is not None else Safe(""),
        signout=render('<div class="who">{form}</div>', form=signout) if page.token is not None else Safe(""),
        flash=render('<p class="flash" role="status">{f}</p>', f=flash) if flash else Safe(""),
        body=body,
    )
    response = HTMLResponse(doc, status_code=status, headers=HEADERS)
    page.finish(response)
    return response


def error_html(page: Page, status: int, title: str, message: str) -> HTMLResponse:
    body = render(
        '<section class="card error-page"><h1>{title}</h1><p>{message}</p><p><a href="/">Back to the applications</a></p></section>',
        title=title,
        message=message,
    )
    return page_html(page, title, body, status=status)


def _here(path: str, href: str) -> bool:
    if href == "/":
        return path == "/" or path.startswith("/apps") or path.startswith("/deployments")
    return path.startswith(href)


def section(title: str, body: Safe, *, actions: Safe = Safe(""), cls: str = "") -> Safe:
    return render(
        '<section class="card {cls}"><div class="card-head"><h2>{title}</h2><div class="actions">{actions}</div></div>{body}</section>',
        cls=cls,
        title=title,
        actions=actions,
        body=body,
    )


__all__ = ["button_form", "error_html", "esc", "hidden_csrf", "page_html", "section"]


def partial_html(page: Page, fragment: Safe) -> HTMLResponse:
    """A region a page script swaps in (see ``data-live`` in dashboard.js)."""
    response = HTMLResponse(fragment, headers=HEADERS)
    page.finish(response)
    return response
