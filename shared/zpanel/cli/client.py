"""The HTTP API client: finds the API (``ZPANEL_API_URL``/``ZPANEL_TOKEN``, else
``$ZPANEL_HOME/stack.json``), sends the bearer token, and turns every failure into one
``ApiError`` line that says what to do."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from zpanel.cli import stackfile
from zpanel.cli.errors import ApiError, CliError, UsageProblem

TRANSPORT: httpx.BaseTransport | None = None
"""Tests may route every client through an ``httpx.MockTransport``."""


@dataclass(frozen=True)
class Target:
    api_url: str
    token: str


def discover() -> Target:
    url = os.environ.get("ZPANEL_API_URL", "")
    token = os.environ.get("ZPANEL_TOKEN", "")
    if not (url and token):
        doc = stackfile.read() or {}
        url = url or str(doc.get("api_url") or "")
        token = token or str(doc.get("token") or "")
    if not url:
        raise CliError(
            f"no Zpanel API found: start the local stack with `zpanel up` (looked in {stackfile.path()}), "
            "or set ZPANEL_API_URL and ZPANEL_TOKEN"
        )
    if not token:
        raise CliError("no API token: set ZPANEL_TOKEN (or start the local stack with `zpanel up`)")
    return Target(url.rstrip("/"), token)


def seg(value: str) -> str:
    """One path segment, escaped (names and ids never hold '/', but user input might)."""
    return quote(value, safe="")


def _reason(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().splitlines()
        return (text[0] if text else response.reason_phrase), None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return str(err.get("message") or err.get("code") or response.reason_phrase), err.get("code")
    if isinstance(body, dict) and isinstance(body.get("detail"), list):  # FastAPI's own validation shape
        parts = []
        for d in body["detail"]:
            loc = ".".join(str(p) for p in d.get("loc", []) if p != "body")
            parts.append(f"{loc}: {d.get('msg')}" if loc else str(d.get("msg")))
        return "; ".join(parts), "validation"
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"]), None
    return response.reason_phrase, None


class Api:
    def __init__(self, target: Target | None = None, *, timeout: float = 30.0) -> None:
        self.target = target or discover()
        self.http = httpx.Client(
            base_url=self.target.api_url,
            headers={"Authorization": f"Bearer {self.target.token}", "User-Agent": "zpanel-cli"},
            timeout=timeout,
            transport=TRANSPORT,
        )

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        url = self.target.api_url
        try:
            r = self.http.request(
                method, path, json=json, params={k: v for k, v in (params or {}).items() if v is not None}
            )
        except httpx.ConnectError as exc:
            raise ApiError(f"cannot reach the Zpanel API at {url}: is the stack running? (`zpanel up`)") from exc
        except httpx.TimeoutException as exc:
            raise ApiError(f"the Zpanel API at {url} did not answer in time; try again") from exc
        except httpx.HTTPError as exc:
            raise ApiError(f"talking to the Zpanel API at {url} failed: {exc}") from exc
        if r.status_code == 401:
            raise ApiError(
                f"the API at {url} refused the token: set ZPANEL_TOKEN or check {stackfile.path()}", 401, "unauthorized"
            )
        if r.status_code >= 400:
            message, code = _reason(r)
            if r.status_code in (400, 422):
                raise UsageProblem(message)
            raise ApiError(message, r.status_code, code)
        if r.status_code == 204 or not r.content:
            return None
        try:
            return r.json()
        except ValueError as exc:
            raise ApiError(f"the API at {url} answered {method} {path} with something that is not JSON") from exc

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {})

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
