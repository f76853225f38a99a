"""Deployer.remove converges: a container already gone, or already being removed, is success,
and in the second case it returns only once the name is free."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from zpanel.remote.base import Result
from zpanel.remote.errors import CommandError
from zpanel_deployer.deploy import Deployer
from zpanel_deployer.request import Placement

IN_PROGRESS = b"Error response from daemon: removal of container web-1-predeploy is already in progress\n"


class Scripted:
    """An executor answering `docker rm` with ``rm_err`` and `docker inspect` with the container
    present ``present`` times, then missing."""

    server = "local"

    def __init__(self, rm_err: bytes, present: int) -> None:
        self.rm_err, self.present, self.calls = rm_err, present, []  # type: ignore[var-annotated]

    async def run(self, argv: Sequence[str], **_: Any) -> Result:
        self.calls.append(list(argv)[:2])
        if list(argv)[:2] == ["docker", "rm"]:
            return Result(list(argv), 1 if self.rm_err else 0, b"", self.rm_err)
        if self.present > 0:
            self.present -= 1
            return Result(
                list(argv),
                0,
                b'[{"Id": "c1", "Name": "/web-1-predeploy", "State": {"Status": "removing"}, "Config": {"Labels": {}}, "NetworkSettings": {"Ports": {}, "Networks": {}}}]',
                b"",
            )
        return Result(list(argv), 1, b"[]", b"Error: No such container: web-1-predeploy\n")


async def no_sleep(_: float) -> None:
    return None


async def test_a_removal_in_progress_is_waited_for() -> None:
    ex = Scripted(IN_PROGRESS, present=2)
    await Deployer(ex, Placement()).remove(["web-1-predeploy"], sleep=no_sleep)  # type: ignore[arg-type]
    assert ex.calls == [["docker", "rm"], ["docker", "inspect"], ["docker", "inspect"], ["docker", "inspect"]]


async def test_an_absent_container_needs_no_wait_and_other_errors_still_fail() -> None:
    gone = Scripted(b"Error response from daemon: No such container: web-1-predeploy\n", present=0)
    await Deployer(gone, Placement()).remove(["web-1-predeploy"], sleep=no_sleep)  # type: ignore[arg-type]
    assert gone.calls == [["docker", "rm"]]
    broken = Scripted(b"Cannot connect to the Docker daemon\n", present=0)
    with pytest.raises(CommandError, match="Cannot connect to the Docker daemon"):
        await Deployer(broken, Placement()).remove(["web-1-predeploy"], sleep=no_sleep)  # type: ignore[arg-type]
