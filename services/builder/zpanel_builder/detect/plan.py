"""What detection found: one plan type per language, rendered by ``zpanel_builder.dockerfile``.
``start`` is a shell command line (``$PORT`` expands); None means "nothing found to start"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodePlan:
    package_manager: str
    """npm, yarn or pnpm"""
    install_files: tuple[str, ...]
    """Copied before the install step, so a source-only change keeps the installed layer."""
    install: str
    build: str | None
    start: str | None
    language: str = "node"


@dataclass(frozen=True)
class PythonPlan:
    install_files: tuple[str, ...]
    """Empty when the install needs the whole source (``pip install .``)."""
    install: str
    framework: str | None
    start: str | None
    language: str = "python"


@dataclass(frozen=True)
class GoPlan:
    has_go_sum: bool
    package: str
    start: str | None = "app"
    language: str = "go"


@dataclass(frozen=True)
class StaticPlan:
    root: str
    """The directory served, relative to the repository root ("." for the root itself)."""
    start: str | None = "httpd -f -p $PORT -h /www"
    language: str = "static"


Plan = NodePlan | PythonPlan | GoPlan | StaticPlan
