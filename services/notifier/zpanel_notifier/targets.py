"""Notification targets: where a notification goes and which events it wants.

A target is stored as one string (the application's ``notify`` list holds them sealed, since
they embed tokens): the channel URL plus Zpanel's own query parameters, which are removed
before the URL reaches apprise or the receiver:

    slack://T000/B000/XXXX/#deploys?zpanel_events=failed,rolled_back
    https://ci.example.com/hooks/zpanel?zpanel_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

``zpanel_events`` lists event types (``deployment.failed``) or their short names (``failed``);
absent, a target wants every event. ``zpanel_secret`` is the Standard Webhooks signing secret of
an ``https://`` target (``prepare_spec`` generates one when it is missing).

URLs carry tokens, so nothing here ever puts a URL in an error or a log line: ``redact_url``
makes the label that is shown instead, and ``key`` tells targets apart without revealing them.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from zpanel.lazy import lazy_module
from zpanel_notifier import signed
from zpanel_notifier.errors import TargetError
from zpanel_notifier.messages import NOTIFIABLE
from zpanel_notifier.redaction import redact_url

EVENTS_PARAM = "zpanel_events"
SECRET_PARAM = "zpanel_secret"  # noqa: S105 - a parameter name
if TYPE_CHECKING:
    import apprise
else:
    apprise = lazy_module("apprise")  # loaded when an apprise URL is first checked

APPRISE_HELP = "see https://github.com/caronc/apprise/wiki for each service's URL"

SHORT_NAMES = {t.split(".", 1)[1] if t.startswith("deployment.") else t.replace(".", "_"): t for t in NOTIFIABLE}
"""succeeded, failed, rolled_back, cancelled, preview_torn_down, server_unreachable."""

RETIRED = {
    "msteams": "Microsoft Teams retired its connectors: use a workflows:// URL (Teams Power Automate); ",
}
"""Schemes users still copy from older guides, and what replaced them."""

Kind = Literal["apprise", "signed"]


@dataclass(frozen=True, repr=False)
class Target:
    # ``url`` and ``secret`` are secrets: repr, label and key never show them.
    url: str
    kind: Kind
    events: frozenset[str] = frozenset(NOTIFIABLE)
    app_id: str | None = None  # None: a global target
    secret: str | None = None

    @property
    def key(self) -> str:
        """A stable id of the destination (not of its event filter) that reveals nothing."""
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        return f"{redact_url(self.url)} [{self.key}]"

    def wants(self, event_type: str, app_id: str | None) -> bool:
        """Application targets hear only their application's events; global ones hear all."""
        return event_type in self.events and (self.app_id is None or self.app_id == app_id)

    def spec(self) -> str:
        """The string to store; ``parse_target(t.spec(), app_id=t.app_id) == t``."""
        params = []
        if self.events != frozenset(NOTIFIABLE):
            params.append(f"{EVENTS_PARAM}={','.join(sorted(self.events))}")
        if self.secret:
            params.append(f"{SECRET_PARAM}={self.secret}")
        if not params:
            return self.url
        return self.url + ("&" if "?" in self.url else "?") + "&".join(params)

    def __repr__(self) -> str:
        scope = f"app {self.app_id}" if self.app_id else "global"
        return f"Target({self.label}, {self.kind}, {scope}, events={sorted(self.events)})"


def parse_target(spec: str, *, app_id: str | None = None) -> Target:
    """Validate one stored or user-given target. Raises ``TargetError`` with a message that
    names the problem and shows the URL only as its redacted label."""
    url, events_value, secret = _split_params(spec.strip())
    events = parse_events(events_value) if events_value is not None else frozenset(NOTIFIABLE)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        raise TargetError(
            "a notification target is not a URL (no scheme://): use an apprise URL such as "
            f"mailto://, slack://, discord://, or an https:// endpoint that receives signed JSON ({APPRISE_HELP})"
        )
    if scheme in ("http", "https"):
        _check_endpoint(url)
        if secret is not None:
            signed.decode_secret(secret)
        return Target(url=url, kind="signed", events=events, app_id=app_id, secret=secret)
    if secret is not None:
        raise TargetError(f"{SECRET_PARAM} applies to https:// targets only, not to {scheme}:// ({redact_url(url)})")
    from apprise.manager_plugins import NotificationManager

    if scheme not in NotificationManager():
        hint = RETIRED.get(scheme, "")
        raise TargetError(f"notification URLs starting with {scheme}:// are not supported; {hint}{APPRISE_HELP}")
    if apprise.Apprise.instantiate(url) is None:
        raise TargetError(f"the {scheme}:// URL {redact_url(url)} is not valid; {APPRISE_HELP}")
    return Target(url=url, kind="apprise", events=events, app_id=app_id)


def parse_targets(specs: Iterable[str], *, app_id: str | None = None) -> list[Target]:
    """Strict: for user input, where the first bad target should stop the command."""
    return [parse_target(s, app_id=app_id) for s in specs if s.strip()]


def load_targets(specs: Iterable[str], *, app_id: str | None = None) -> tuple[list[Target], list[str]]:
    """Lenient: for stored targets, where one that no longer parses (say, after an apprise
    upgrade) must not silence the others. Returns the targets and the (safe) error messages."""
    targets, errors = [], []
    for spec in specs:
        if not spec.strip():
            continue
        try:
            targets.append(parse_target(spec, app_id=app_id))
        except TargetError as exc:
            errors.append(str(exc))
    return targets, errors


def prepare_spec(spec: str) -> tuple[str, str | None]:
    """For ``app create --notify URL``: validate, give an ``https://`` target a new signing
    secret if it has none, and return (the spec to store sealed, the secret to show once or None)."""
    target = parse_target(spec)
    if target.kind != "signed" or target.secret:
        return target.spec(), None
    secret = signed.new_secret()
    return Target(url=target.url, kind="signed", events=target.events, secret=secret).spec(), secret


def select(targets: Iterable[Target], event_type: str, app_id: str | None) -> list[Target]:
    """The targets that want this event, each destination once (an app and a global target
    with the same URL would otherwise send twice)."""
    chosen: dict[str, Target] = {}
    for t in targets:
        if t.wants(event_type, app_id):
            chosen.setdefault(t.key, t)
    return list(chosen.values())


def parse_events(value: str) -> frozenset[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise TargetError(f"{EVENTS_PARAM} is empty: name at least one of {', '.join(SHORT_NAMES)} (or all)")
    out: set[str] = set()
    for name in names:
        if name == "all":
            out.update(NOTIFIABLE)
        elif name in NOTIFIABLE:
            out.add(name)
        elif name in SHORT_NAMES:
            out.add(SHORT_NAMES[name])
        else:
            raise TargetError(f"unknown event {name!r} in {EVENTS_PARAM}: use {', '.join(SHORT_NAMES)} or all")
    return frozenset(out)


def _split_params(spec: str) -> tuple[str, str | None, str | None]:
    """Take Zpanel's parameters out of the query, leaving the channel's own ones in place."""
    if "?" not in spec:
        return spec, None, None
    base, query = spec.split("?", 1)
    kept, events, secret = [], None, None
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == EVENTS_PARAM:
            events = value
        elif name == SECRET_PARAM:
            secret = value
        elif part:
            kept.append(part)
    return (base + "?" + "&".join(kept) if kept else base), events, secret


def _check_endpoint(url: str) -> None:
    label = redact_url(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise TargetError(f"the endpoint {label} is not a valid URL") from None
    if not host:
        raise TargetError(f"the endpoint {label} has no host")
    if parts.scheme.lower() == "http" and not _is_loopback(host):
        raise TargetError(
            f"the endpoint {label} uses plain http://: use https:// (http:// is allowed only to "
            "localhost, where nothing crosses the network)"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
