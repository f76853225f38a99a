"""The build executor: reuse an image built for the same build key, else run ``docker build``,
streaming every line (secrets masked) to ``on_line`` as it happens, within a timeout, and kill
the build when cancelled (BuildKit stops the build when its client goes away)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from pathlib import Path

from zpanel_builder import build, buildlog, process
from zpanel_builder.buildkit import DockerClient
from zpanel_builder.errors import BuildFailed, BuildTimeout
from zpanel_builder.process import LineCallback
from zpanel_builder.redact import Redactor


@dataclass(frozen=True)
class BuildResult:
    image: str
    """``<app>:<commit12>``"""
    image_id: str
    """``sha256:…`` of the image config: the digest of what was built, before any push."""
    build_key: str
    cached: bool
    duration_s: float


@dataclass(frozen=True)
class Tagged:
    id: str
    key: str


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class DockerBuilder:
    def __init__(self, client: DockerClient, *, timeout: float = 1800.0) -> None:
        self.client = client
        self.timeout = timeout

    async def _docker(self, *args: str) -> process.ProcessResult:
        return await process.run([self.client.path, *args], timeout=60)

    async def tagged(self, image: str) -> Tagged | None:
        """The id and build key of ``image`` (``<app>:<commit12>``), if it exists. One image
        inspect by reference: listing images by label makes the engine read every image's
        config, which costs a fifth of a second with a thousand images around."""
        label = "{{index .Config.Labels " + json.dumps(build.LABEL_KEY) + "}}"
        result = await self._docker("image", "inspect", "--format", "{{.Id}} " + label, image)
        found = result.tail[-1].split() if result.returncode == 0 and result.tail else []
        return Tagged(found[0], found[1]) if len(found) == 2 and found[0].startswith("sha256:") else None

    async def find_cached(self, image: str, key: str) -> str | None:
        """The id of ``image`` when it was built with this build key."""
        found = await self.tagged(image)
        return found.id if found and found.key == key else None

    async def build(
        self,
        spec: build.BuildSpec,
        *,
        secrets: Mapping[str, str] | None = None,
        on_line: LineCallback | None = None,
        timeout: float | None = None,
        reuse: bool = True,
        tagged: Awaitable[Tagged | None] | None = None,
    ) -> BuildResult:
        """Build ``spec`` (or reuse the image of its build key). ``secrets`` maps each of
        ``spec.secret_names`` to its plain value. ``tagged``: ``self.tagged(spec.image)`` started
        earlier (while the checkout ran). Raises :class:`BuildFailed` (or :class:`BuildTimeout`)
        with the failing line and the last lines of output."""
        secrets = dict(secrets or {})
        missing = set(spec.secret_names) - set(secrets)
        if missing:
            raise ValueError(f"no value given for build secrets {sorted(missing)}")
        emit = on_line or (lambda _line: None)
        started = time.monotonic()
        key = build.build_key(spec)
        found = (await tagged if tagged is not None else await self.tagged(spec.image)) if reuse else None
        if found is not None and found.key == key:
            emit(f"image {spec.image} was built from this commit with this build configuration: no build")
            return BuildResult(spec.image, found.id, key, True, time.monotonic() - started)
        redact = Redactor(secrets.values())
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="zpanel-build-"))
        try:
            files = {}
            for name in spec.secret_names:
                files[name] = tmp / f"secret-{name}"
                _write_private(files[name], secrets[name])
            dockerfile = spec.dockerfile
            if dockerfile is None:
                dockerfile = tmp / "Dockerfile"
                _write_private(dockerfile, spec.dockerfile_text)
            iidfile = tmp / "iid"
            argv = build.build_argv(
                self.client.path, spec, dockerfile=dockerfile, secret_files=files, iidfile=iidfile, key=key
            )
            emit(f"$ docker build --tag {spec.image} ({self.client.describe()})")
            limit = timeout if timeout is not None else self.timeout
            lines: list[str] = []

            def collect(line: str) -> None:
                lines.append(line)
                emit(line)

            result = await process.run(
                argv, env=build.build_env(os.environ), on_line=collect, timeout=limit, redact=redact
            )
            if result.timed_out:
                raise BuildTimeout(
                    f"the build ran longer than {limit:.0f}s and was stopped", lines[-1] if lines else "", result.tail
                )
            if result.returncode != 0:
                reason, failing = buildlog.failure(lines, spec.dockerfile_text)
                raise BuildFailed(redact(reason), redact(failing), result.tail)
            image_id = iidfile.read_text().strip()
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)
        return BuildResult(spec.image, image_id, key, False, time.monotonic() - started)

    async def remove_image(self, image: str) -> None:
        await self._docker("image", "rm", "--force", image)
