"""Every error answer has one shape: ``{"error": {"code", "message"}}``, the message saying what to do.

zpanel errors map by class; request validation names the field; anything unexpected is a 500
whose message says nothing of the request (it could hold a secret) and is logged with its type.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from zpanel.bus.errors import is_transient
from zpanel.errors import BusError, Conflict, NotFound, PermanentError, SecretError, SettingsError, ZpanelError

log = structlog.get_logger("zpanel.api")

# most specific first
ZPANEL_ERRORS: tuple[tuple[type[ZpanelError], int, str], ...] = (
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (PermanentError, 422, "invalid"),
    (BusError, 503, "nats_unavailable"),
    (SecretError, 500, "secret_key"),
    (SettingsError, 500, "settings"),
)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "queue_full",
}


class ApiError(Exception):
    """Raised by routes for answers that are not a zpanel error: 401, 413, 429 …"""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def answer(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def validation_message(errors: list[Any]) -> str:
    """``body.port: Input should be less than or equal to 65535`` — never the input itself."""
    parts = []
    for err in errors[:3]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)] or ["request"]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {msg}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return answer(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(ZpanelError)
    async def _zpanel(_: Request, exc: ZpanelError) -> JSONResponse:
        return zpanel_answer(exc)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return answer(422, "invalid", validation_message(list(exc.errors())))

    @app.exception_handler(ValidationError)
    async def _model(_: Request, exc: ValidationError) -> JSONResponse:
        return answer(422, "invalid", validation_message(list(exc.errors())))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404 and message == "Not Found":
            message = "no such route: see /openapi.json for the API"
        if exc.status_code == 405:
            message = "method not allowed on this route: see /openapi.json"
        return answer(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        return bug_answer(exc)


def zpanel_answer(exc: ZpanelError) -> JSONResponse:
    for cls, status, code in ZPANEL_ERRORS:
        if isinstance(exc, cls):
            if status >= 500:
                log.error("api.error", code=code, error=str(exc))
            return answer(status, code, str(exc))
    log.error("api.error", code="error", error=str(exc))
    return answer(500, "error", str(exc))


def bug_answer(exc: Exception) -> JSONResponse:
    if is_transient(exc):  # a NATS node restarting or electing a leader: not a bug, and it passes
        log.warning("api.nats_unavailable", error_type=type(exc).__name__)
        message = "NATS did not answer in time (a node restarting or electing a leader?): try again in a moment"
        return answer(503, "nats_unavailable", message, {"Retry-After": "1"})
    log.error("api.unexpected", error_type=type(exc).__name__, exc_info=exc)
    return answer(500, "internal", "the gateway failed unexpectedly; its log says why (search for api.unexpected)")


def response_for(exc: Exception) -> JSONResponse:
    """What ``install``'s handlers answer, for a route served outside FastAPI (the webhook fast
    path, ``api/webhooks.py``), which raises only these kinds."""
    if isinstance(exc, ApiError):
        return answer(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, ZpanelError):
        return zpanel_answer(exc)
    return bug_answer(exc)
