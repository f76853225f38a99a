"""Publicly trusted certificates (ACME, HTTP-01) for the proxies Zpanel runs: opt-in with
``ZPANEL_ACME_EMAIL``. Without it no proxy has an ACME issuer and no route names a resolver:
public domains get the proxy's own self-signed certificate, and nothing is asked of a CA from a
machine that may not be reachable from the internet (a laptop, CI)."""

from __future__ import annotations

import re
from dataclasses import dataclass

RESOLVER = "letsencrypt"
"""The Traefik certificate resolver's name: the same in every static configuration Zpanel writes
(embedded, SSH servers, docker-compose.yml) and in the deployer's container labels."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Acme:
    email: str
    """The CA's contact for expiry and revocation notices."""
    ca: str | None = None
    """The ACME directory URL; None: Let's Encrypt's production directory (each proxy's default)."""

    def __post_init__(self) -> None:
        if not _EMAIL.match(self.email):
            raise ValueError(f"ZPANEL_ACME_EMAIL: {self.email!r} is not an e-mail address")
        if self.ca is not None and not self.ca.startswith("https://"):
            # Traefik refuses a plain-http directory ("HTTPS is required"): say so at start-up
            raise ValueError(f"ZPANEL_ACME_CA: {self.ca!r} must be an https:// ACME directory URL")

    @classmethod
    def of(cls, email: str | None, ca: str | None = None) -> Acme | None:
        """From the settings: None (no ACME) when the e-mail is unset or empty."""
        email = (email or "").strip()
        return cls(email, (ca or "").strip() or None) if email else None


def resolver(acme: Acme | None) -> str | None:
    """The certificate resolver a route names: only one that the proxy has."""
    return RESOLVER if acme else None
