"""Secret values at rest (Fernet) and in logs (redaction).

Every value opened here is also registered with the process-wide redactor, so whatever this process
learns as a secret can never be printed by its logger or written to a deployment log.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from zpanel.errors import SecretError
from zpanel.lazy import lazy_module

if TYPE_CHECKING:
    from cryptography import fernet
else:
    fernet = lazy_module("cryptography.fernet")  # 7 MB RSS (its Rust bindings): loaded on first seal/open

PREFIX = "fernet:"
MASK = "********"


class Redactor:
    """Replaces every registered secret value in text. Values shorter than 4 characters are not
    registered: masking them would mangle ordinary words and hide nothing worth hiding."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        with self._lock:
            new = {v for v in values if v and len(v) >= 4} - self._values
            if new:
                self._values |= new
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None and text else text

    def __contains__(self, value: str) -> bool:
        return value in self._values


redactor = Redactor()


class Cipher:
    def __init__(self, key: str | bytes) -> None:
        try:
            valid = len(base64.urlsafe_b64decode(key)) == 32  # Fernet's own check, without loading it
        except (binascii.Error, ValueError, TypeError):
            valid = False
        if not valid:
            raise SecretError("ZPANEL_SECRET_KEY is not a valid Fernet key (32 url-safe base64 bytes)")
        self._key = key
        self._made: fernet.Fernet | None = None

    @property
    def _fernet(self) -> fernet.Fernet:
        if self._made is None:
            self._made = fernet.Fernet(self._key)
        return self._made

    @classmethod
    def generate_key(cls) -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode()  # what Fernet.generate_key does

    @classmethod
    def from_home(cls, home: Path, key: str | None = None) -> Cipher:
        """The key from ``ZPANEL_SECRET_KEY`` if given, else ``home/secret.key``, created 0600 once."""
        if key:
            return cls(key)
        path = home / "secret.key"
        if not path.exists():
            # several services start at once: the key appears whole (written aside, then linked in)
            # and only the first link wins; the others read the winner's key
            home.mkdir(parents=True, exist_ok=True)
            aside = home / f".secret.key.{os.getpid()}"
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(cls.generate_key())
            try:
                os.link(aside, path)
            except FileExistsError:
                pass
            finally:
                aside.unlink()
        return cls(path.read_text().strip())

    def seal(self, plain: str) -> str:
        if plain == "":
            return ""
        redactor.add(plain)
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        if sealed == "":
            return ""
        if not sealed.startswith(PREFIX):
            raise SecretError("a stored secret is not sealed; it was written without encryption")
        try:
            plain = self._fernet.decrypt(sealed[len(PREFIX) :].encode()).decode()
        except fernet.InvalidToken as exc:
            raise SecretError(
                "a stored secret cannot be opened with this key: set ZPANEL_SECRET_KEY to the key it was sealed with"
            ) from exc
        redactor.add(plain)
        return plain
