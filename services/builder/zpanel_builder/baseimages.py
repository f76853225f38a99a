"""Base images of auto-detected builds. Air-gapped installs (and tests, which cannot pull) point
them at local images through ZPANEL_BASE_IMAGE_<LANGUAGE>."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class BaseImages:
    python: str = "python:3.12-slim"
    node: str = "node:22-slim"
    go: str = "golang:1.23-bookworm"
    static: str = "busybox:1.37"
    """busybox's httpd is the small static server."""
    runtime: str = "debian:bookworm-slim"
    """Where a compiled Go binary runs (the Go toolchain image is too big to ship)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BaseImages:
        env = os.environ if env is None else env
        values = {f.name: env.get(f"ZPANEL_BASE_IMAGE_{f.name.upper()}") for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if v})

    @classmethod
    def all(cls, image: str) -> BaseImages:
        """Every language on one image (tests use the local busybox image)."""
        return cls(**{f.name: image for f in fields(cls)})
