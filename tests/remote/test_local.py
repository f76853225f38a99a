import pytest

from zpanel.remote.errors import CommandError
from zpanel.remote.local import LocalExecutor


async def _chunks():
    for part in (b"a", b"b" * 100_000, b"c"):
        yield part


async def test_run_returns_exit_code_and_both_outputs() -> None:
    result = await LocalExecutor().run(["sh", "-c", "echo out; echo err >&2; exit 4"], check=False)
    assert (result.returncode, result.out, result.err) == (4, "out\n", "err\n")


async def test_run_raises_with_the_stderr_tail_when_checked() -> None:
    with pytest.raises(CommandError, match=r"`sh -c exit 5 …` failed on server 'local' \(exit 5\): no output"):
        await LocalExecutor().run(["sh", "-c", "exit 5"])


async def test_run_streams_input_from_an_async_iterator() -> None:
    result = await LocalExecutor().run(["wc", "-c"], input=_chunks())
    assert result.out.strip() == "100002"


async def test_timeout_kills_the_process() -> None:
    with pytest.raises(TimeoutError):
        await LocalExecutor().run(["sleep", "30"], timeout=0.2)


async def test_stream_failure_raises_after_the_output() -> None:
    ex = LocalExecutor()
    got = b""
    with pytest.raises(CommandError, match=r"exit 2\): bad"):
        async with ex.stream(["sh", "-c", "printf data; echo bad >&2; exit 2"]) as chunks:
            async for chunk in chunks:
                got += chunk
    assert got == b"data"


async def test_write_file_is_0600_and_atomic(tmp_path) -> None:
    path = tmp_path / "a b" / ".env"
    await LocalExecutor().write_file(str(path), b"K=v\n")
    assert path.read_bytes() == b"K=v\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [".env"]


async def test_missing_binary_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="cannot start no-such-binary-zp"):
        await LocalExecutor().run(["no-such-binary-zp"])


async def test_write_file_makes_missing_folders_private(tmp_path) -> None:
    path = tmp_path / "apps" / "web" / "d1" / "compose.yaml"
    await LocalExecutor().write_file(str(path), b"x", 0o644)
    assert path.stat().st_mode & 0o777 == 0o644
    assert [(tmp_path / p).stat().st_mode & 0o777 for p in ("apps", "apps/web", "apps/web/d1")] == [0o700] * 3
