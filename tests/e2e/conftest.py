"""Fixtures of the stack cases: one real stack and one notification receiver per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.receiver import Receiver, receiver
from tests.e2e.stack import Stack, running_stack


@pytest.fixture(scope="module")
def notes() -> Iterator[Receiver]:
    with receiver() as rec:
        yield rec


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, busybox_image: str) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("zhome")) as s:
        yield s
