"""The notifier's errors. Every message is safe to show: target URLs appear only as redacted
labels (see ``targets.redact_url``), never with the tokens they embed."""

from zpanel.errors import PermanentError, ZpanelError


class NotifierError(ZpanelError):
    """Base of the notifier's own errors."""


class TargetError(NotifierError, PermanentError, ValueError):
    """A notification target is malformed or names events that do not exist."""


class SendError(NotifierError):
    """One attempt to deliver to one target failed.

    ``retryable`` is False when trying again cannot help (a receiver that answers 401 or 404),
    so the delivery loop dead-letters at once instead of spending its retries.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
