"""Fixtures of the stack cases: one real stack and one notification receiver per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _pytest.nodeid import NodeId

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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` sends every test of one ``xdist_group`` to one worker by a ``@group``
    suffix on its node id. pytest-xdist 3.8 writes that suffix to ``item._nodeid``, which pytest 9
    no longer reads (the id lives in ``item._id``), so every group was spread over all workers:
    stacks of this folder ran side by side. Put the suffix where pytest 9 reads it."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        nodeid = item.nodeid
        if names and nodeid.rfind("@") <= nodeid.rfind("]"):
            item._id = NodeId.parse(f"{nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]
