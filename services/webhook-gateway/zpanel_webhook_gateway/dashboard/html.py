"""Escaping by default: every value put into a page goes through ``esc`` unless it is ``Safe``
(markup this package wrote itself). No template engine is needed for a dozen small pages, and
this keeps one rule: a string from a record is text, never markup."""

from __future__ import annotations

import html as _html
from collections.abc import Iterable
from urllib.parse import quote


class Safe(str):
    """Markup that is already escaped, or was written here."""

    __slots__ = ()


def esc(value: object) -> Safe:
    if isinstance(value, Safe):
        return value
    if value is None:
        return Safe("")
    return Safe(_html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Safe:
    return Safe(sep.join(esc(p) for p in parts))


def render(template: str, /, **values: object) -> Safe:
    """``render("<a href='{url}'>{text}</a>", url=..., text=...)``: values escaped, lists joined."""
    filled = {k: join(v) if isinstance(v, list | tuple) else esc(v) for k, v in values.items()}
    return Safe(template.format_map(filled))


def seg(value: str) -> str:
    """One URL path segment (names and ids are already restricted; this is belt and braces)."""
    return quote(value, safe="")
