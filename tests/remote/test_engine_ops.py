import pytest

from zpanel.remote.engine_ops import env_lines


def test_env_file_lines_are_read_as_the_docker_cli_reads_them() -> None:
    text = "\ufeffA=1\n\n# comment\n  B= spaced value \nC=x=y\nFROM_HOST\nUNSET\nEMPTY=\n"
    assert env_lines(text, {"FROM_HOST": "h"}) == ["A=1", "B= spaced value ", "C=x=y", "FROM_HOST=h", "EMPTY="]


def test_env_file_name_with_a_space_is_refused() -> None:
    with pytest.raises(ValueError, match="env file line 2: variable 'BAD KEY' contains whitespaces"):
        env_lines("OK=1\nBAD KEY=2\n", {})
