"""What every strategy starts from, and the steps they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zpanel.models import Application, ContainerRef
from zpanel_deployer.commands.docker import container_name
from zpanel_deployer.strategies.steps import PostDeploy, PreDeploy, Step


@dataclass(frozen=True)
class PlanInput:
    app: Application
    deployment_id: str
    image: str
    new: tuple[str, ...]
    old: tuple[ContainerRef, ...]
    drain_s: float

    @classmethod
    def of(
        cls, app: Application, deployment_id: str, live: Sequence[ContainerRef], image: str, drain_s: float
    ) -> PlanInput:
        new = tuple(container_name(app.name, deployment_id, r) for r in range(app.replicas))
        # a redelivered deployment sees its own containers live: they are never "old"
        own = set(new)
        old = tuple(sorted((c for c in live if c.name not in own), key=lambda c: (c.replica, c.name)))
        return cls(app, deployment_id, image, new, old, drain_s)

    @property
    def old_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.old)

    def pre(self) -> list[Step]:
        return [PreDeploy(self.app.pre_deploy)] if self.app.pre_deploy else []

    def post(self) -> list[Step]:
        return [PostDeploy(self.app.post_deploy, self.new[0])] if self.app.post_deploy else []
