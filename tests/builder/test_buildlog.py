"""Failure reasons read from BuildKit output captured on this machine (docker 20.10)."""

from __future__ import annotations

from zpanel_builder.buildlog import failure

RUN_FAILED = """#5 [2/4] RUN echo step1
#5 sha256:ad555de00038224080f6f88f68236d6c34465f0c241326dc7e7bf3a4f1abae89
#5 0.249 step1
#5 DONE 0.3s

#6 [3/4] RUN echo bad && false
#6 sha256:5fbef6a440550f57882a11411642886335b67c6ddf099a713da372b04faadb63
#6 0.285 bad
#6 ERROR: executor failed running [/bin/sh -c echo bad && false]: exit code: 1
------
 > [3/4] RUN echo bad && false:
------
executor failed running [/bin/sh -c echo bad && false]: exit code: 1""".splitlines()

PARSE_ERROR = """#2 [internal] load .dockerignore
#2 DONE 0.0s
failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 2: unknown instruction: FOO""".splitlines()


def test_failed_run_step_names_the_step_and_the_error() -> None:
    assert failure(RUN_FAILED) == (
        "build step [3/4] RUN echo bad && false failed: executor failed running [/bin/sh -c echo bad && false]: exit code: 1",
        "[3/4] RUN echo bad && false",
    )


def test_parse_error_quotes_the_dockerfile_line() -> None:
    reason, line = failure(PARSE_ERROR, "FROM x\nFOO bar\n")
    assert reason == (
        "failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error "
        'line 2: unknown instruction: FOO (Dockerfile line 2: "FOO bar")'
    )
    assert line == "FOO bar"


def test_unknown_output_falls_back_to_the_last_line() -> None:
    assert failure(["something", "went wrong", ""]) == ("docker build failed: went wrong", "went wrong")
    assert failure([]) == ("docker build failed without output", "")
