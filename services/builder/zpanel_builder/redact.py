"""Replace secret values in output lines before anyone sees them."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
MIN_SECRET_LEN = 3
"""Shorter values would mask ordinary text everywhere and hide nothing worth hiding."""


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        # A multi-line value (a private key) is also masked line by line: output is read by line.
        parts = {p.strip() for s in secrets for p in [s, *s.splitlines()]}
        self._values = sorted({p for p in parts if len(p) >= MIN_SECRET_LEN}, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for value in self._values:
            if value in line:
                line = line.replace(value, MASK)
        return line
