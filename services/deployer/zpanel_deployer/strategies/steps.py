"""The vocabulary of a deployment plan: ordered, idempotent steps the executor walks.

A plan is a pure value computed from (application, deployment id, the containers live now, the new
image). Steps name containers, never ids: new containers have deterministic names, so the same plan
can be recomputed after a crash and walked again from any step (every step converges: starting a
replica that exists reuses it, stopping a stopped container is a no-op).

``WaitHealthy`` and ``Switch`` are *external* steps: the health checker and proxy-sync do them. A
walker with hooks performs them in-process; a walker without hooks stops there and hands off.
"""

from __future__ import annotations

from dataclasses import dataclass

from zpanel.models import ContainerRef


@dataclass(frozen=True)
class PreDeploy:
    """Run the command in a one-off container of the new image, before anything changes."""

    command: str


@dataclass(frozen=True)
class StartNew:
    replica: int
    name: str


@dataclass(frozen=True)
class WaitHealthy:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Switch:
    """After this step the proxy sends traffic to exactly these containers."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Drain:
    """Wait until these (no longer routed) containers hold no connection: their requests in
    flight have finished. At most ``seconds``; an idle container is not waited for."""

    names: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class StopOld:
    names: tuple[str, ...]


@dataclass(frozen=True)
class StartOld:
    names: tuple[str, ...]


@dataclass(frozen=True)
class RemoveOld:
    names: tuple[str, ...]


@dataclass(frozen=True)
class RemoveNew:
    names: tuple[str, ...]


@dataclass(frozen=True)
class PostDeploy:
    """Run the command inside a new container (``docker exec``) once it serves traffic."""

    command: str
    name: str


Step = PreDeploy | StartNew | WaitHealthy | Switch | Drain | StopOld | StartOld | RemoveOld | RemoveNew | PostDeploy
EXTERNAL = (WaitHealthy, Switch)


@dataclass(frozen=True)
class Plan:
    strategy: str
    deployment_id: str
    image: str
    new: tuple[str, ...]
    old: tuple[ContainerRef, ...]
    steps: tuple[Step, ...]

    def first_external(self, start: int = 0) -> int | None:
        """Index of the first WaitHealthy/Switch at or after ``start`` (where a hook-less walk stops)."""
        for i in range(start, len(self.steps)):
            if isinstance(self.steps[i], EXTERNAL):
                return i
        return None

    def _switches(self) -> list[int]:
        return [i for i, s in enumerate(self.steps) if isinstance(s, Switch)]

    @property
    def batches(self) -> int:
        """How many times the pipeline hands this plan to health and proxy-sync: once per Switch
        (a rolling update: once per replica; every other strategy: once)."""
        return max(1, len(self._switches()))

    def after_switch(self, batch: int | None = None) -> int:
        """Index just after the Switch of ``batch`` (default: the last one): where the pipeline
        resumes once the proxy switched."""
        switches = self._switches()
        if not switches:
            return 0
        return switches[(batch or len(switches)) - 1] + 1

    def step_of(self, kind: type[WaitHealthy] | type[Switch], batch: int) -> int:
        """Index of the ``batch``-th WaitHealthy or Switch (the step a health or proxy failure of
        that batch failed at)."""
        found = [i for i, s in enumerate(self.steps) if isinstance(s, kind)]
        return found[min(batch, len(found)) - 1]

    def route(self, batch: int) -> tuple[str, ...]:
        """The containers the proxy sends traffic to after the Switch of ``batch``."""
        step = self.steps[self._switches()[batch - 1]]
        assert isinstance(step, Switch)
        return step.names

    def batch_at(self, index: int) -> int:
        """The batch that step ``index`` belongs to: 1 + the Switches before it."""
        return 1 + sum(1 for i in self._switches() if i < index)

    def switched_before(self, index: int) -> bool:
        """Traffic already reached this plan's new containers before step ``index``: undoing it
        needs the proxy to route back before the new containers go."""
        return any(i < index for i in self._switches())

    def revert_point(self) -> int:
        """A ``reached`` for ``rollback`` that covers every batch walked so far: all steps before the
        last Switch (the old containers are removed only after it). Restarting an old container
        that was never stopped and removing new ones never started are no-ops."""
        switches = self._switches()
        return switches[-1] if switches else len(self.steps)

    def rollback(self, reached: int) -> tuple[Step, ...]:
        """Undo ``steps[:reached]`` (pass the failing step's index + 1: it may have half happened):
        restart the old containers that were stopped, route back to them, remove the new ones.
        Old containers are only ever removed after the last switch, so this is always possible
        before that point."""
        done = self.steps[:reached]
        stopped = tuple(n for s in done if isinstance(s, StopOld) for n in s.names)
        removed = {n for s in done if isinstance(s, RemoveOld) for n in s.names}
        if removed:
            raise ValueError("cannot roll back past the removal of the old containers")
        started = tuple(s.name for s in done if isinstance(s, StartNew))
        steps: list[Step] = []
        if stopped:
            steps.append(StartOld(stopped))
        if any(isinstance(s, Switch) for s in done) and self.old:
            steps.append(Switch(tuple(c.name for c in self.old)))
        if started:
            steps.append(RemoveNew(started))
        return tuple(steps)
