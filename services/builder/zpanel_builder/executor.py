"""The build executor: reuse an image built for the same build key, else run ``docker build``,
streaming every line (secrets masked) to ``on_line`` as it happens, within a timeout, and kill
the build when cancelled (BuildKit stops the build when its client goes away)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
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

    async def find_cached(self, key: str) -> str | None:
        """The id of an image labelled with this build key, if one exists."""
        label = f"label={build.LABEL_KEY}={key}"
        result = await self._docker("image", "ls", "--quiet", "--no-trunc", "--filter", label)
        ids = [line.strip() for line in result.tail if line.strip().startswith("sha256:")]
        return ids[0] if result.returncode == 0 and ids else None

    async def build(
        self,
        spec: build.BuildSpec,
        *,
        secrets: Mapping[str, str] | None = None,
        on_line: LineCallback | None = None,
        timeout: float | None = None,
        reuse: bool = True,
    ) -> BuildResult:
        """Build ``spec`` (or reuse the image of its build key). ``secrets`` maps each of
        ``spec.secret_names`` to its plain value. Raises :class:`BuildFailed` (or
        :class:`BuildTimeout`) with the failing line and the last lines of output."""
        secrets = dict(secrets or {})
        missing = set(spec.secret_names) - set(secrets)
        if missing:
            raise ValueError(f"no value given for build secrets {sorted(missing)}")
        emit = on_line or (lambda _line: None)
        started = time.monotonic()
        key = build.build_key(spec)
        if reuse and (existing := await self.find_cached(key)):
            tagged = await self._docker("tag", existing, spec.image)
            if tagged.returncode == 0:
                emit(f"an image for commit {spec.commit[:12]} with this build configuration exists: reusing it")
                return BuildResult(spec.image, existing, key, True, time.monotonic() - started)
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
