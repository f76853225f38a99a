"""The shared library's error hierarchy.

Stage handlers raise :class:`RetryableError` for things that may pass (a server that does not
answer, a NATS leader election) and :class:`PermanentError` for things that never will (a broken
Dockerfile, an unknown commit). The bus turns the first into a nak with backoff and the second into
an immediate dead-letter; nothing else needs to know about acks.
"""


class ZpanelError(Exception):
    """Base of every error Zpanel raises on purpose. The message is meant for the user."""


class SettingsError(ZpanelError):
    """A ZPANEL_* setting is missing or invalid."""


class RetryableError(ZpanelError):
    """The work may succeed if tried again later."""


class PermanentError(ZpanelError):
    """The work can never succeed as given; retrying would only repeat the failure."""


class BusError(RetryableError):
    """NATS could not be reached or did not answer in time."""


class NotFound(ZpanelError):
    """A record (application, server, deployment) does not exist."""


class Conflict(ZpanelError):
    """A compare-and-set lost against a concurrent writer, or a name is taken."""


class SecretError(ZpanelError):
    """A sealed value could not be opened: wrong or missing ZPANEL_SECRET_KEY."""
