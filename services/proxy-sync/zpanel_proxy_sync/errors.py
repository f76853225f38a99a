"""proxy-sync's errors: the proxy did not answer (retry), or the switch could not be verified and
the previous routes were put back (the deployment fails; the old version keeps serving)."""

from zpanel.errors import PermanentError, RetryableError


class ProxyError(RetryableError):
    """The proxy (its admin API or its configuration directory) could not be reached or written."""


class BadRoute(PermanentError):
    """The route cannot be built from the application as given (e.g. a domain Traefik rejects)."""


class VerifyFailed(PermanentError):
    """After the switch, requests through the proxy did not reach the new deployment in time. The
    previous routes have been restored when this is raised by ``switch``."""


class ProxyBootError(ProxyError, PermanentError):
    """The server's proxy cannot be started as things stand (no Docker there, a port taken): an
    operator must act, so the deployment fails at once with this reason instead of retrying."""
