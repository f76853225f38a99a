"""Sign-in with a token through a form, the cookies it sets, CSRF on every form, sign-out."""

from __future__ import annotations

from tests.dashboard.dashstack import CSRF_RE, Dash, dash_fixture  # noqa: F401
from zpanel_webhook_gateway.dashboard.signin import NOT_VALID, safe_next


def cookie_header(headers: list[str], name: str) -> str:
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert len(found) == 1, headers
    return found[0]


async def test_pages_need_a_session(dash: Dash) -> None:
    r = await dash.get("/")
    assert (r.status_code, r.headers["location"]) == (303, "/signin")
    r = await dash.get("/apps/web?x=1")
    assert (r.status_code, r.headers["location"]) == (303, "/signin?next=%2Fapps%2Fweb%3Fx%3D1")
    for path in ("/servers", "/dlq", "/deployments/abc"):
        assert (await dash.get(path)).status_code == 303
    r = await dash.get("/partials/apps", headers={"X-Zpanel-Partial": "1"})
    assert (r.status_code, r.text) == (401, "sign in again")
    dash.browser.cookies.set("zpanel_token", "zp_not-a-real-token")
    assert (await dash.get("/")).headers["location"] == "/signin"


async def test_sign_in_sets_strict_httponly_cookies_and_keeps_the_token_out_of_urls(dash: Dash) -> None:
    form = await dash.get("/signin?next=/servers")
    assert form.status_code == 200
    csrf_cookie = cookie_header(form.headers.get_list("set-cookie"), "zpanel_csrf")
    assert "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie and "Path=/" in csrf_cookie
    assert '<form method="post" action="/signin">' in form.text
    assert '<input type="hidden" name="next" value="/servers">' in form.text
    token = CSRF_RE.search(form.text)
    assert token is not None and token.group(1) == dash.csrf()

    r = await dash.post("/signin", {"csrf": dash.csrf(), "token": dash.api.token, "next": "/servers"})
    assert (r.status_code, r.headers["location"]) == (303, "/servers")
    session = cookie_header(r.headers.get_list("set-cookie"), "zpanel_token")
    assert session.startswith(f"zpanel_token={dash.api.token};")
    assert "HttpOnly" in session and "SameSite=strict" in session and "Max-Age=604800" in session
    assert "Secure" not in session  # plain http here; https requests get Secure
    assert dash.api.token not in r.headers["location"]
    page = await dash.get("/servers")
    assert page.status_code == 200
    assert dash.api.token not in page.text


async def test_a_wrong_token_is_refused_with_a_message(dash: Dash) -> None:
    await dash.get("/signin")
    r = await dash.post("/signin", {"csrf": dash.csrf(), "token": "zp_wrong", "next": "/"})
    assert r.status_code == 401
    assert NOT_VALID in r.text
    assert "zpanel_token" not in dash.browser.cookies
    assert (await dash.get("/")).status_code == 303


async def test_sign_in_without_the_csrf_value_is_refused(dash: Dash) -> None:
    await dash.get("/signin")
    r = await dash.post("/signin", {"token": dash.api.token})
    assert r.status_code == 403
    assert "this form is stale or did not come from this dashboard" in r.text
    r = await dash.post("/signin", {"csrf": "x" * 43, "token": dash.api.token})
    assert r.status_code == 403
    r = await dash.post(
        "/signin", {"csrf": dash.csrf(), "token": dash.api.token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert r.status_code == 403
    assert "zpanel_token" not in dash.browser.cookies


async def test_sign_out_forgets_the_session(dash: Dash) -> None:
    await dash.sign_in()
    assert (await dash.get("/")).status_code == 200
    assert (await dash.post("/signout", {})).status_code == 403  # CSRF applies to sign-out too
    r = await dash.post("/signout", {"csrf": dash.csrf()})
    assert (r.status_code, r.headers["location"]) == (303, "/signin")
    assert "zpanel_token" not in dash.browser.cookies
    assert (await dash.get("/")).status_code == 303


def test_next_is_only_ever_a_local_path() -> None:
    assert safe_next("/apps/web") == "/apps/web"
    assert safe_next("//evil.example/x") == "/"
    assert safe_next("https://evil.example/") == "/"
    assert safe_next("/\\evil.example") == "/"
    assert safe_next(None) == "/"
