from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import structlog

from zpanel.errors import SecretError, SettingsError
from zpanel.secrets import MASK, Cipher, Redactor
from zpanel.settings import load
from zpanel.telemetry import configure_logging


def test_seal_open_round_trip_and_key_file_is_private(tmp_path: Path) -> None:
    cipher = Cipher.from_home(tmp_path)
    sealed = cipher.seal("hunter2-canary")
    assert sealed.startswith("fernet:") and "hunter2" not in sealed
    assert cipher.open(sealed) == "hunter2-canary"
    assert stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode) == 0o600
    assert Cipher.from_home(tmp_path).open(sealed) == "hunter2-canary"  # same key next start


def test_wrong_key_says_what_to_do(tmp_path: Path) -> None:
    sealed = Cipher(Cipher.generate_key()).seal("value-1234")
    with pytest.raises(SecretError, match="set ZPANEL_SECRET_KEY to the key it was sealed with"):
        Cipher(Cipher.generate_key()).open(sealed)
    with pytest.raises(SecretError, match="not a valid Fernet key"):
        Cipher("short")


def test_redactor_masks_registered_values_longest_first() -> None:
    r = Redactor()
    r.add("abc", "token-1234", "token-1234-long")
    assert r("x token-1234-long y token-1234 abc") == f"x {MASK} y {MASK} abc"


def test_logs_never_show_an_opened_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cipher = Cipher(Cipher.generate_key())
    plain = cipher.open(cipher.seal("canary-secret-9f8e"))
    configure_logging("test", fmt="json")
    structlog.get_logger().info("connecting", url=f"https://user:{plain}@host", extra=[plain])
    err = capsys.readouterr().err
    line = json.loads(err.strip().splitlines()[-1])
    assert "canary-secret-9f8e" not in err
    assert line["url"] == f"https://user:{MASK}@host"
    structlog.reset_defaults()  # later tests in this worker must not inherit this configuration


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZPANEL_NATS_PORT", "abc")
    with pytest.raises(SettingsError, match=r"ZPANEL_NATS_PORT: Input should be a valid integer.*'abc'"):
        load()
    monkeypatch.setenv("ZPANEL_NATS_PORT", "4222")
    monkeypatch.setenv("ZPANEL_NATS_URL", "http://x")
    with pytest.raises(SettingsError, match="ZPANEL_NATS_URL: Value error, must be nats://HOST:PORT"):
        load()
    monkeypatch.delenv("ZPANEL_NATS_URL")
    s = load(retry_base_s=1, retry_cap_s=5)
    assert [s.retry_delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]


def test_services_starting_at_once_share_one_whole_key(tmp_path: Path) -> None:
    """Eight processes race to create the key file: every one reads the same, complete key."""
    script = (
        "import sys, time; from pathlib import Path; from zpanel.secrets import Cipher\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "c = Cipher.from_home(Path(sys.argv[1])); print(c.open(c.seal('x')) == 'x', Path(sys.argv[1], 'secret.key').read_text())"
    )
    start = str(time.time() + 1.5)
    runs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), start], stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    outs = [r.communicate(timeout=60)[0] for r in runs]
    assert [r.returncode for r in runs] == [0] * 8
    assert len(set(outs)) == 1 and outs[0].startswith("True ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]
