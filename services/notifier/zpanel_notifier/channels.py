"""Send one notification to one target: apprise for every chat/mail/push service, signed JSON
for plain HTTPS endpoints. One attempt per call; retrying is the delivery loop's job.

Apprise's services are blocking code; ``Apprise.async_notify`` runs them in apprise's own
thread pool, so the event loop keeps serving other targets while one SMTP server dawdles.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from zpanel.lazy import lazy_module
from zpanel_notifier import signed
from zpanel_notifier.errors import SendError
from zpanel_notifier.messages import Notification
from zpanel_notifier.redaction import redact_urls
from zpanel_notifier.targets import SECRET_PARAM, Target

if TYPE_CHECKING:
    import apprise
    import httpx
    from apprise.result import AppriseResult
else:  # 7 MB RSS together: an idle notifier with nothing to send never loads them
    apprise = lazy_module("apprise")
    httpx = lazy_module("httpx")


@functools.cache
def asset() -> apprise.AppriseAsset:
    # Memory only: the notifier keeps no state on disk (delivery ids live in the NATS KV bucket).
    return apprise.AppriseAsset(app_id="Zpanel", app_desc="Zpanel deployment notifications", storage_mode="memory")


MAX_REASON_CHARS = 300


class Channels:
    """The senders, sharing one HTTP client. Use as ``async with Channels() as channels``."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.timeout = timeout
        self._now = now
        self._own_client = client is None
        self._given = client

    @functools.cached_property
    def _client(self) -> httpx.AsyncClient:
        # Made on the first signed send (httpx loads then). No redirects: a receiver that moved
        # must be re-registered, not followed blindly with a signed body.
        return self._given or httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)

    async def __aenter__(self) -> Channels:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client and "_client" in self.__dict__:
            await self._client.aclose()

    async def send(self, target: Target, note: Notification, delivery_id: str) -> None:
        """One attempt; raises ``SendError``. ``delivery_id`` becomes the ``webhook-id`` of
        signed JSON, so receivers can drop a repeat that crossed a retry."""
        if target.kind == "signed":
            if not target.secret:
                raise SendError(
                    f"{target.label}: this endpoint has no signing secret; add {SECRET_PARAM}=whsec_… "
                    "to its URL (zpanel generates one when the target is added)",
                    retryable=False,
                )
            await signed.post(
                self._client,
                target.url,
                secret=target.secret,
                msg_id=delivery_id,
                document=note.document,
                label=target.label,
                now=self._now,
            )
            return
        await send_apprise(target, note, timeout=self.timeout)


async def send_apprise(target: Target, note: Notification, *, timeout: float) -> None:
    # A fresh Apprise per attempt: its plugins remember what they delivered, and a retry must
    # start clean.
    sender = apprise.Apprise(asset=asset())
    if not sender.add(target.url):
        raise SendError(f"{target.label}: apprise does not accept this URL", retryable=False)
    result = await sender.async_notify(
        body=note.body,
        title=note.title,
        notify_type=apprise.NotifyType(note.severity),
        body_format=apprise.NotifyFormat.TEXT,
        timeout=timeout,
    )
    if not result:
        raise SendError(f"{target.label}: {failure_reason(result, timeout)}")


def failure_reason(result: AppriseResult, timeout: float) -> str:
    """Apprise reports why only in the log lines it captured for the attempt."""
    from apprise.result import AppriseResultStatus

    if result.status == AppriseResultStatus.TIMEOUT:
        return f"no answer within {timeout:g}s"
    messages = [entry.message for service in result.results for entry in service.logs()]
    if not messages:
        return f"apprise reported {result.status.name}"
    reason = redact_urls(" / ".join(dict.fromkeys(messages[-2:])))
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"
