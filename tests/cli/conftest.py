"""Fixtures of the CLI tests: the fake API (one per worker), a runner with a clean environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.cli import fakeapi
from zpanel.cli.main import app


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[fakeapi.Fake]:
    fake, server = fakeapi.serve()
    yield fake
    server.should_exit = True


@pytest.fixture
def fake(fake_server: fakeapi.Fake) -> fakeapi.Fake:
    fake_server.reset()
    return fake_server


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "zhome"


@pytest.fixture
def zpanel(fake: fakeapi.Fake, home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``zpanel(*args)`` runs the CLI in-process against the fake API."""
    monkeypatch.setenv("ZPANEL_HOME", str(home))
    monkeypatch.setenv("ZPANEL_API_URL", fake.url)
    monkeypatch.setenv("ZPANEL_TOKEN", fakeapi.TOKEN)
    return run_cli


def run_cli(*args: str, input: str | None = None) -> Result:
    r = CliRunner().invoke(app, list(args), input=input)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return Result(r.exit_code, r.stdout, r.stderr)
