"""Docker CLI argv lists, built by pure functions and tested by exact value.

The executor runs them as they are (local) or shell-quotes them once (SSH). Nothing here holds a
secret: environment values go through an ``--env-file`` written 0600 on the server, so they never
show in a process list. The commands every deployment runs are :class:`Command` lists that also
carry their Engine API form (see :mod:`~zpanel_deployer.commands.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from zpanel.remote import engine_ops as ops
from zpanel_deployer.commands import engine

DOCKER = "docker"
NAME_DEPLOYMENT_CHARS = 12


class Command(list[str]):
    """An argv list (equal to the plain list) with the same operation as Engine API requests,
    for an executor that reaches the engine's socket."""

    def __init__(self, argv: Sequence[str], op: ops.Op) -> None:
        super().__init__(argv)
        self.engine = op


def container_name(app_name: str, deployment_id: str, replica: int) -> str:
    """``web`` + ``0123456789abcdef…`` + 1 → ``web-0123456789ab-1``: unique per deployment and
    replica, so Docker's own name check makes a second start of the same replica impossible."""
    return f"{app_name}-{deployment_id[:NAME_DEPLOYMENT_CHARS]}-{replica}"


def predeploy_name(app_name: str, deployment_id: str) -> str:
    return f"{app_name}-{deployment_id[:NAME_DEPLOYMENT_CHARS]}-predeploy"


@dataclass(frozen=True)
class Publish:
    """A port published on the host. ``host_port=None`` lets Docker pick a free one (read it back
    with ``inspect``): no race between choosing a port and binding it."""

    container_port: int
    host_port: int | None = None
    host_ip: str = "127.0.0.1"

    def arg(self) -> str:
        return f"{self.host_ip}:{self.host_port or ''}:{self.container_port}"


@dataclass(frozen=True)
class Limits:
    memory: str | None = None  # docker syntax: "512m", "1g"
    cpus: float | None = None
    pids: int | None = None


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    labels: Mapping[str, str] = field(default_factory=dict)
    env_file: str | None = None
    publish: tuple[Publish, ...] = ()
    network: str | None = None
    aliases: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()  # "SOURCE:TARGET[:ro]"
    limits: Limits = field(default_factory=Limits)
    restart: str = "unless-stopped"
    command: tuple[str, ...] | None = None  # None: the image's CMD
    log_max_size: str = "10m"
    log_max_file: int = 3


def _container_options(spec: ContainerSpec) -> list[str]:
    argv = ["--name", spec.name]
    for key, value in spec.labels.items():
        argv += ["--label", f"{key}={value}"]
    if spec.env_file:
        argv += ["--env-file", spec.env_file]
    for p in spec.publish:
        argv += ["--publish", p.arg()]
    if spec.network:
        argv += ["--network", spec.network]
        for alias in spec.aliases:
            argv += ["--network-alias", alias]
    for v in spec.volumes:
        argv += ["--volume", v]
    if spec.limits.memory:
        argv += ["--memory", spec.limits.memory]
    if spec.limits.cpus is not None:
        argv += ["--cpus", f"{spec.limits.cpus:g}"]
    if spec.limits.pids is not None:
        argv += ["--pids-limit", str(spec.limits.pids)]
    argv += ["--log-opt", f"max-size={spec.log_max_size}", "--log-opt", f"max-file={spec.log_max_file}"]
    return argv


def run(spec: ContainerSpec) -> Command:
    """Create and start in one call, detached."""
    argv = [DOCKER, "run", "--detach", "--restart", spec.restart, *_container_options(spec), spec.image]
    body = engine.create_body(
        image=spec.image,
        labels=spec.labels,
        publish=[(p.container_port, p.host_port, p.host_ip) for p in spec.publish],
        network=spec.network,
        aliases=spec.aliases,
        volumes=spec.volumes,
        memory=spec.limits.memory,
        cpus=spec.limits.cpus,
        pids=spec.limits.pids,
        restart=spec.restart,
        command=spec.command,
        log_max_size=spec.log_max_size,
        log_max_file=spec.log_max_file,
    )
    return Command(argv + list(spec.command or ()), ops.Run(spec.name, body, spec.env_file))


def create(spec: ContainerSpec) -> list[str]:
    argv = [DOCKER, "create", "--restart", spec.restart, *_container_options(spec), spec.image]
    return argv + list(spec.command or ())


def one_off(spec: ContainerSpec, command: str) -> list[str]:
    """A foreground, removed-after container running ``sh -c COMMAND`` (pre-deploy migrations)."""
    return [DOCKER, "run", "--rm", *_container_options(spec), spec.image, "sh", "-c", command]


def start(*names: str) -> Command:
    return Command([DOCKER, "start", *names], ops.Each("POST", "/containers/{name}/start", names))


def stop(*names: str, timeout: int = 10) -> Command:
    op = ops.Each("POST", "/containers/{name}/stop", names, (("t", str(timeout)),))
    return Command([DOCKER, "stop", "--time", str(timeout), *names], op)


def rm(*names: str, force: bool = True) -> Command:
    op = ops.Each("DELETE", "/containers/{name}", names, (("force", "1"),) if force else ())
    return Command([DOCKER, "rm", *(["--force"] if force else []), *names], op)


def inspect(*names: str) -> Command:
    return Command([DOCKER, "inspect", "--type", "container", *names], ops.Inspect(names))


def logs(name: str, tail: int = 50) -> list[str]:
    return [DOCKER, "logs", "--tail", str(tail), name]


def exec_(name: str, command: Sequence[str]) -> list[str]:
    return [DOCKER, "exec", name, *command]


def ps(labels: Mapping[str, str], *, all_: bool = True) -> Command:
    """Full ids of the containers carrying every label given (read details with ``inspect``: the
    label column of ``ps`` is comma-joined and cannot be parsed safely)."""
    argv = [DOCKER, "ps", "--quiet", "--no-trunc"]
    if all_:
        argv.append("--all")
    for key, value in labels.items():
        argv += ["--filter", f"label={key}={value}"]
    return Command(argv, engine.list_ids(labels, all_))


def image_id(image: str) -> Command:
    return Command([DOCKER, "image", "inspect", "--format", "{{.Id}}", image], ops.ImageId(image))


def image_ls(repository: str) -> list[str]:
    """One JSON object per line: Repository, Tag, ID, CreatedAt, …"""
    return [DOCKER, "image", "ls", "--no-trunc", "--format", "{{json .}}", repository]


def image_rm(*refs: str) -> list[str]:
    return [DOCKER, "image", "rm", *refs]


def save(image: str) -> list[str]:
    return [DOCKER, "save", image]


def load() -> list[str]:
    return [DOCKER, "load"]


def pull(image: str) -> list[str]:
    return [DOCKER, "pull", "--quiet", image]


def network_inspect(name: str) -> list[str]:
    return [DOCKER, "network", "inspect", "--format", "{{.Id}}", name]


def network_create(name: str) -> list[str]:
    return [DOCKER, "network", "create", "--label", "zpanel.managed=true", name]
