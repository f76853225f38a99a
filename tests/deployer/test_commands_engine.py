import pytest

from zpanel.remote.engine_ops import ListIds
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


def test_list_filters_are_compact_json_of_labels() -> None:
    assert E.list_ids({"a": "1"}, True) == ListIds((("all", "1"), ("filters", '{"label":["a=1"]}')))
    assert E.list_ids({}, True) == ListIds((("all", "1"),))
