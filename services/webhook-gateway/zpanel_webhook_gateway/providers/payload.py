"""Reading a provider's JSON without trusting its shape.

Every accessor either returns a value of the promised type or raises :class:`MalformedPayload`
naming the field, so no KeyError, TypeError or AttributeError can escape a parser.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from zpanel_webhook_gateway.providers.base import MalformedPayload

Doc = dict[str, Any]


def load(raw_body: bytes) -> Doc:
    """The body as a JSON object."""
    if not raw_body:
        raise MalformedPayload("the request body is empty; expected a JSON webhook payload")
    try:
        doc = _loads(raw_body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedPayload(f"the request body is not valid JSON: {_short(exc)}") from exc
    if not isinstance(doc, dict):
        raise MalformedPayload(f"the payload must be a JSON object, not {type(doc).__name__}")
    return doc


def _loads(raw: bytes | str) -> Any:
    """orjson (a quarter of the stdlib's time on a GitHub push); whatever it refuses — it is the
    stricter one: NaN, integers past 64 bits, lone surrogates, UTF-16 — goes to the stdlib, so
    what is accepted, and every error message, stays the stdlib's."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def obj(doc: Doc, *path: str) -> Doc:
    value = _walk(doc, path)
    if not isinstance(value, dict):
        raise MalformedPayload(f"field {_name(path)} must be an object")
    return value


def opt_obj(doc: Doc, *path: str) -> Doc | None:
    value = _walk(doc, path, required=False)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedPayload(f"field {_name(path)} must be an object")
    return value


def text(doc: Doc, *path: str) -> str:
    value = _walk(doc, path)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"field {_name(path)} must be a non-empty string")
    return value


def opt_text(doc: Doc, *path: str) -> str | None:
    """A string field, or None when absent, null or empty."""
    value = _walk(doc, path, required=False)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"field {_name(path)} must be a string")
    return value


def integer(doc: Doc, *path: str) -> int:
    value = _walk(doc, path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"field {_name(path)} must be an integer")
    return value


def opt_scalar(doc: Doc, *path: str) -> str | int | None:
    """An id that providers send as a number or a string; None when absent."""
    value = _walk(doc, path, required=False)
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise MalformedPayload(f"field {_name(path)} must be a number or a string")


def flag(doc: Doc, *path: str) -> bool:
    """A boolean field; absent or null means False."""
    value = _walk(doc, path, required=False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise MalformedPayload(f"field {_name(path)} must be true or false")
    return value


def opt_list(doc: Doc, *path: str) -> list[Any] | None:
    value = _walk(doc, path, required=False)
    if value is None:
        return None
    if not isinstance(value, list):
        raise MalformedPayload(f"field {_name(path)} must be a list")
    return value


def objects(doc: Doc, *path: str) -> list[Doc]:
    """A list of objects; absent or null is an empty list."""
    items = opt_list(doc, *path) or []
    if not all(isinstance(item, dict) for item in items):
        raise MalformedPayload(f"field {_name(path)} must be a list of objects")
    return items


def strings(doc: Doc, *path: str) -> list[str] | None:
    """A list of strings, or None when absent (the provider did not say)."""
    items = opt_list(doc, *path)
    if items is None:
        return None
    if not all(isinstance(item, str) for item in items):
        raise MalformedPayload(f"field {_name(path)} must be a list of strings")
    return items


def _walk(doc: Doc, path: tuple[str, ...], required: bool = True) -> Any:
    value: Any = doc
    for i, key in enumerate(path):
        if not isinstance(value, dict):
            raise MalformedPayload(f"field {_name(path[:i])} must be an object")
        if key not in value:
            if required:
                raise MalformedPayload(f"field {_name(path[: i + 1])} is missing")
            return None
        value = value[key]
        if value is None and i < len(path) - 1:
            if required:
                raise MalformedPayload(f"field {_name(path[: i + 1])} is null")
            return None
    return value


def _name(path: tuple[str, ...]) -> str:
    return "'" + ".".join(path) + "'" if path else "the payload"


def _short(exc: Exception) -> str:
    return str(exc)[:200]
