"""The ``docker build`` argv and the build key. Pure.

The argv is kept stable from one deployment to the next (sorted build args, no per-deploy hosts,
no ``--no-cache``/``--pull``), so BuildKit's layer cache stays warm; per-deployment facts go only
into labels, which touch the final image config and no layer. Secret build-time variables are
``--secret id=NAME,src=FILE`` (the file is 0600 and deleted after the build), never build args,
which would be recorded in the image history.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zpanel_builder.errors import InvalidSource

KEY_VERSION = "1"
"""Bump when the way images are built changes, so old images stop matching new keys."""
_REPO = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LABEL_APP = "zpanel.app"
LABEL_COMMIT = "zpanel.commit"
LABEL_DEPLOYMENT = "zpanel.deployment"
LABEL_KEY = "zpanel.build-key"


def image_ref(repository: str, commit: str) -> str:
    """``<app>:<commit12>``; ``repository`` may carry a registry prefix (``127.0.0.1:5000/app``)."""
    name = repository.split("/", 1)[1] if "/" in repository and (":" in repository.split("/", 1)[0]) else repository
    if not _REPO.match(name):
        raise InvalidSource(f"image name {repository!r} is not valid: use lowercase letters, digits and . _ - /")
    if not re.match(r"^[0-9a-f]{12,}$", commit):
        raise InvalidSource(f"commit {commit!r} must be a full hex SHA to tag an image")
    return f"{repository}:{commit[:12]}"


@dataclass(frozen=True)
class BuildSpec:
    """One image to build. ``dockerfile`` None means ``dockerfile_text`` is written to a
    temporary file outside the context. ``secret_names`` are the ids of ``--secret`` mounts."""

    image: str
    context: Path
    dockerfile_text: str
    app_id: str
    commit: str
    deployment_id: str
    dockerfile: Path | None = None
    target: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    secret_names: Sequence[str] = ()
    context_path: str = "."
    """The context relative to the repository root (the absolute checkout differs per deployment)."""

    def __post_init__(self) -> None:
        for name in [*self.args, *self.secret_names]:
            if not _VAR.match(name):
                raise InvalidSource(f"build variable name {name!r} is not valid: use letters, digits and '_'")
        if self.target is not None and not _TARGET.match(self.target):
            raise InvalidSource(f"build target {self.target!r} is not a valid stage name")


def build_key(spec: BuildSpec) -> str:
    """Everything that decides the image's content, hashed: the commit, the Dockerfile text, the
    context's place in the tree, the target, the build args and the names of the secrets.

    Secret values are left out on purpose: the key is a label anyone with Docker access reads,
    and a hash of a short secret can be guessed. Change a secret's name (or redeploy with a new
    commit) to force a rebuild."""
    doc = {
        "v": KEY_VERSION,
        "commit": spec.commit,
        "dockerfile": spec.dockerfile_text,
        "context": spec.context_path,
        "target": spec.target,
        "args": dict(sorted(spec.args.items())),
        "secrets": sorted(spec.secret_names),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def build_argv(
    docker: str,
    spec: BuildSpec,
    *,
    dockerfile: Path,
    secret_files: Mapping[str, Path],
    iidfile: Path,
    key: str,
) -> list[str]:
    argv = [docker, "build", "--progress=plain", "--file", str(dockerfile), "--tag", spec.image]
    labels = {LABEL_APP: spec.app_id, LABEL_KEY: key, LABEL_COMMIT: spec.commit, LABEL_DEPLOYMENT: spec.deployment_id}
    for name, value in sorted(labels.items()):
        argv += ["--label", f"{name}={value}"]
    if spec.target:
        argv += ["--target", spec.target]
    for name, value in sorted(spec.args.items()):
        argv += ["--build-arg", f"{name}={value}"]
    for name in sorted(secret_files):
        argv += ["--secret", f"id={name},src={secret_files[name]}"]
    return [*argv, "--iidfile", str(iidfile), str(spec.context)]


def build_env(base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    env.update({"DOCKER_BUILDKIT": "1", "BUILDKIT_PROGRESS": "plain", "DOCKER_CLI_HINTS": "false"})
    return env
