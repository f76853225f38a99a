from __future__ import annotations

from zpanel_builder.process import run
from zpanel_builder.redact import Redactor


async def test_merged_output_is_redacted_line_by_line() -> None:
    lines: list[str] = []
    result = await run(
        ["sh", "-c", "echo out-hunter2; echo err-line >&2; printf 'no newline'"],
        on_line=lines.append,
        redact=Redactor(["hunter2", "ab"]),
    )
    assert result.returncode == 0
    assert sorted(lines) == ["err-line", "no newline", "out-***"]
    assert result.tail == lines


async def test_timeout_kills_the_process_group() -> None:
    result = await run(["sh", "-c", "sleep 30 & wait"], timeout=0.5)
    assert result.timed_out is True


def test_multiline_secret_is_masked_per_line() -> None:
    redact = Redactor(["-----BEGIN-----\nAAAABBBB\n-----END-----"])
    assert redact("key line AAAABBBB here") == "key line *** here"
