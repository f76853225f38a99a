from __future__ import annotations

from pathlib import Path

import pytest

from zpanel_builder.buildkit import buildkit_capable, find_client, parse_version
from zpanel_builder.errors import BuildkitUnavailable


def test_buildkit_capability_by_version_and_buildx() -> None:
    assert parse_version("20.10.24+dfsg1") == (20, 10)
    assert [
        buildkit_capable(v, False) for v in ("18.06.1", "18.09.0", "20.10.24+dfsg1", "22.06", "23.0.0", "28.2.2")
    ] == [
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    assert buildkit_capable("28.2.2", True) is True
    assert buildkit_capable("garbage", False) is False


def fake_client(tmp_path: Path, version: str) -> str:
    """A docker client that reports ``version`` and has no buildx, like a static 28.x client."""
    path = tmp_path / f"docker-{version}"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = version ]; then echo {version}; exit 0; fi\n'
        "echo \"docker: 'buildx' is not a docker command.\" >&2; exit 1\n"
    )
    path.chmod(0o755)
    return str(path)


async def test_skips_a_client_without_buildx_and_says_why(tmp_path: Path, docker_engine: None) -> None:
    newer = fake_client(tmp_path, "28.2.2")
    client, notes = await find_client([newer, "/usr/bin/docker"])
    assert (client.path, client.buildx, client.version.startswith("20.10.")) == ("/usr/bin/docker", False, True)
    assert notes == [f"{newer} 28.2.2: no buildx plugin, so it cannot build with BuildKit; skipped"]


async def test_no_capable_client_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        BuildkitUnavailable, match=r"no docker client here can build with BuildKit .*install Debian's docker.io"
    ):
        await find_client([fake_client(tmp_path, "28.2.2")])
