"""The walk on the local engine (its Engine API path): a started replica is read back once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from tests.deployer.conftest import Images
from tests.deployer.helpers import app, get
from zpanel.remote.base import Result
from zpanel.remote.local import LocalExecutor
from zpanel_deployer.deploy import Deployer
from zpanel_deployer.request import DeployRequest, Placement
from zpanel_deployer.walker import walk


class Recording(LocalExecutor):
    def __init__(self) -> None:
        super().__init__()
        self.argvs: list[list[str]] = []

    async def run(self, argv: Sequence[str], **kw: Any) -> Result:
        self.argvs.append(list(argv))
        return await super().run(argv, **kw)


async def test_the_started_replica_is_not_inspected_again_after_the_walk(
    images: Images, owned: dict[str, str], apps_root: str
) -> None:
    uid = uuid.uuid4().hex
    the_app = app(id=uid, name=f"w{uid[:8]}")
    ex = Recording()
    deployer = Deployer(ex, Placement(root=apps_root, stop_timeout=0))
    req = DeployRequest(app=the_app, deployment_id=uid, image=images.v1, commit="c0ffee", extra_labels=owned)
    try:
        await deployer.prepare(req)
        plan = await deployer.plan(req)
        progress = await walk(deployer, plan, req)
        name = plan.new[0]
        assert progress.containers == await deployer.refs(req, plan.new)
        assert [a for a in ex.argvs if a[:2] == ["docker", "inspect"] and a[-1] == name] == [
            ["docker", "inspect", "--type", "container", name],  # read back once, right after it started
            ["docker", "inspect", "--type", "container", name],  # the refs() of this test; the walk adds none
        ]
        assert get(progress.containers[0].address) == "v1\n"
    finally:
        await ex.close()
