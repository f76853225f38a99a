"""Deferred imports (zpanel.lazy) and what an idle service process really loads."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from zpanel.lazy import is_loaded, lazy_module
from zpanel.secrets import Cipher


@pytest.fixture
def probe_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh module that records, in its own attribute, that its code ran."""
    name = f"zp_lazy_probe_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("RAN = True\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_lazy_module_runs_on_first_attribute_access(probe_module: str) -> None:
    module = lazy_module(probe_module)
    assert not is_loaded(probe_module)
    assert module.VALUE == 42
    assert is_loaded(probe_module)
    real = sys.modules[probe_module]
    assert real.RAN is True and real is not module
    assert lazy_module(probe_module) is real  # already loaded: the module itself


def test_the_first_use_from_many_threads_imports_once(probe_module: str, tmp_path: Path) -> None:
    (tmp_path / f"{probe_module}.py").write_text("import time\ntime.sleep(0.2)\nRUNS = [1]\n")
    module = lazy_module(probe_module)
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda _: module.RUNS, range(8)))
    assert all(s is seen[0] for s in seen) and seen[0] == [1]


def test_an_already_loaded_module_is_returned_as_is() -> None:
    import json

    assert lazy_module("json") is json and is_loaded("json")


def test_a_missing_module_fails_at_once() -> None:
    with pytest.raises(ModuleNotFoundError, match="zp_no_such_module"):
        lazy_module("zp_no_such_module")


def test_a_cipher_loads_cryptography_only_to_seal_or_open() -> None:
    code = (
        "from zpanel.lazy import is_loaded\n"
        "from zpanel.secrets import Cipher\n"
        "c = Cipher(Cipher.generate_key())\n"
        "print(is_loaded('cryptography.fernet'))\n"
        "print(c.open(c.seal('canary-value')))\n"
        "print(is_loaded('cryptography.fernet'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "canary-value", "True"]


def test_a_generated_key_is_a_fernet_key() -> None:
    from cryptography.fernet import Fernet

    key = Cipher.generate_key()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert Cipher(key).open(Cipher(key).seal("value-1234")) == "value-1234"


HEAVY = ("rich", "pygments", "greenlet", "asyncssh", "cryptography.fernet", "cryptography.x509", "apprise", "docker")
SERVICES = (
    "zpanel_webhook_gateway",
    "zpanel_builder",
    "zpanel_deployer",
    "zpanel_health",
    "zpanel_proxy_sync",
    "zpanel_notifier",
)


@pytest.mark.parametrize("package", SERVICES)
def test_a_service_entry_point_loads_no_heavy_optional_library(package: str) -> None:
    """What ``python -m <service>`` imports before it runs: none of these (bench/memory)."""
    code = (
        "import importlib, sys\n"
        "from zpanel.lazy import is_loaded\n"
        f"importlib.import_module('{package}.__main__')\n"
        f"print(sorted(m for m in {HEAVY!r} if is_loaded(m)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_cli_keeps_rich() -> None:
    code = "import zpanel.cli.main, zpanel.telemetry, sys; print('rich.console' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
