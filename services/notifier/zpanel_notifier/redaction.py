"""Keep tokens embedded in target URLs out of errors and logs.

Services put tokens everywhere in their URLs (Slack's path, Telegram's host, a password in the
user info, an ntfy topic), so a URL is never shown: its label is, with only the scheme and a
real host name left.
"""

from __future__ import annotations

import logging
import re

_URL_RE = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>]+""")
_HOST_RE = re.compile(r"^(localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)(:\d{1,5})?$")


def redact_url(url: str) -> str:
    """``slack://T0/B0/XX`` → ``slack://***/…``; ``https://u:p@h.example/x?t=1`` →
    ``https://***@h.example/…``. Host names stay (they tell targets apart and hide nothing);
    anything that is not one, user info, paths and queries are where services put tokens."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    tail = "/…" if rest[len(netloc) :].strip("/") else ""
    user = ""
    if "@" in netloc:
        user, netloc = "***@", netloc.rsplit("@", 1)[1]
    host = netloc if _HOST_RE.match(netloc) else "***"
    return f"{scheme}://{user}{host}{tail}"


def redact_urls(text: str) -> str:
    """Every URL in free text (an exception, a library's log line) replaced by its label."""
    return _URL_RE.sub(lambda m: redact_url(m.group(0)), text)


class _RedactUrls(logging.Filter):
    """Apprise logs whole URLs (an unparseable one at ERROR level, tokens included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_urls(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    log = logging.getLogger("apprise")
    if not any(isinstance(f, _RedactUrls) for f in log.filters):
        log.addFilter(_RedactUrls())


install_log_redaction()
