import pytest

from zpanel_deployer.commands import engine as E


def test_memory_sizes_are_binary_units_as_docker_reads_them() -> None:
    assert [E.memory_bytes(v) for v in ("512m", "1g", "1.5GiB", "100", "64 kb", "2T")] == [
        512 * 1024**2,
        1024**3,
        int(1.5 * 1024**3),
        100,
        64 * 1024,
        2 * 1024**4,
    ]
    with pytest.raises(ValueError, match="invalid size '12x'"):
        E.memory_bytes("12x")


def test_env_file_lines_are_read_as_the_docker_cli_reads_them() -> None:
    text = "\ufeffA=1\n\n# comment\n  B= spaced value \nC=x=y\nFROM_HOST\nUNSET\nEMPTY=\n"
    assert E.env_lines(text, {"FROM_HOST": "h"}) == ["A=1", "B= spaced value ", "C=x=y", "FROM_HOST=h", "EMPTY="]


def test_env_file_name_with_a_space_is_refused() -> None:
    with pytest.raises(ValueError, match="env file line 2: variable 'BAD KEY' contains whitespaces"):
        E.env_lines("OK=1\nBAD KEY=2\n", {})


def test_list_filters_are_compact_json_of_labels() -> None:
    assert E.list_ids({"a": "1"}, True) == E.ListIds((("all", "1"), ("filters", '{"label":["a=1"]}')))
    assert E.list_ids({}, True) == E.ListIds((("all", "1"),))
