from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from zpanel_builder.credentials import GitCredentials, credential_env, ssh_command


def test_ssh_command_exact() -> None:
    assert ssh_command(Path("/t/id"), Path("/t/kh"), pinned=True) == (
        "ssh -F /dev/null -i /t/id -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes "
        "-o UserKnownHostsFile=/t/kh -o StrictHostKeyChecking=yes"
    )
    assert ssh_command(Path("/t/id"), Path("/t/kh"), pinned=False).endswith("StrictHostKeyChecking=accept-new")


def test_deploy_key_is_a_0600_file_named_only_in_the_environment_and_deleted_after(tmp_path: Path) -> None:
    creds = GitCredentials(ssh_key="-----BEGIN KEY-----\nabc\n-----END KEY-----", known_hosts="host ssh-ed25519 AAAA")
    with credential_env(creds, tmp_path / "cache") as env:
        key = Path(env["GIT_SSH_COMMAND"].split(" -i ")[1].split(" ")[0])
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_text() == "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"
        assert "BEGIN KEY" not in env["GIT_SSH_COMMAND"]
        assert (key.parent / "known_hosts").read_text() == "host ssh-ed25519 AAAA\n"
    assert not key.parent.exists()
    assert "set" in repr(creds) and "abc" not in repr(creds)


def test_token_reaches_git_through_askpass_and_the_environment_only(tmp_path: Path) -> None:
    creds = GitCredentials(token="ghp_supersecret", username="x-access-token")
    with credential_env(creds, tmp_path) as env:
        assert set(env) == {"GIT_ASKPASS", "ZPANEL_GIT_TOKEN", "ZPANEL_GIT_USERNAME"}
        askpass = env["GIT_ASKPASS"]
        assert "ghp_supersecret" not in Path(askpass).read_text()
        ask = [
            subprocess.run([askpass, prompt], env=env, capture_output=True, text=True).stdout
            for prompt in (
                "Username for 'https://h': ",
                "Password for 'https://x-access-token@h': ",
            )
        ]
        assert ask == ["x-access-token\n", "ghp_supersecret\n"]
    assert not Path(askpass).exists()


def test_no_credentials_no_environment(tmp_path: Path) -> None:
    with credential_env(None, tmp_path) as env:
        assert env == {}
