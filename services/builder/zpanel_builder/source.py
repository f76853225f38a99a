"""Repository URLs, branches and commits, validated; and the git argv lists that use them.

Pure: nothing here runs git. Every value that reaches an argv was checked first, so a "branch"
such as ``--upload-pack=touch /tmp/x`` or ``main;rm -rf /`` is refused with a message instead of
reaching git, and every argv ends its options before a user value where git allows it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from zpanel_builder.errors import InvalidSource

REMOTE_SCHEMES = ("https", "http", "ssh", "git")
REMOTE_PROTOCOLS = "http:https:ssh:git"
"""GIT_ALLOW_PROTOCOL for remote repositories: no ``ext::`` (it runs commands) and no ``file``,
so a submodule cannot point at a path on the build machine."""
LOCAL_PROTOCOLS = REMOTE_PROTOCOLS + ":file"

_SCP_RE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[A-Za-z0-9._~/-]+)$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+$")
_URL_PATH_RE = re.compile(r"^[A-Za-z0-9._~/%+@-]*$")
_LOCAL_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/+@-]*$")
_BRANCH_CHARS = re.compile(r"^[A-Za-z0-9._/+-]+$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{7,64}$")
_FULL_COMMIT_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


def _refuse(what: str, value: str, why: str) -> InvalidSource:
    return InvalidSource(f"{what} {value!r} is not valid: {why}")


def validate_repo_url(url: str) -> str:
    """Accept ``https://``, ``http://``, ``ssh://``, ``git://`` URLs, scp-like ``git@host:owner/repo``
    and absolute local paths (``file://`` or ``/srv/repo``). Refuse credentials inside the URL:
    they would land in logs, errors and the mirror's config."""
    if not url or url != url.strip() or any(c.isspace() or ord(c) < 32 for c in url):
        raise _refuse("repository URL", url, "it is empty or contains spaces or control characters")
    if url.startswith("-"):
        raise _refuse("repository URL", url, "it starts with '-'")
    if url.startswith("/") or url.startswith("file://"):
        path = url.removeprefix("file://")
        if not _LOCAL_PATH_RE.match(path) or "/../" in path + "/":
            raise _refuse("repository URL", url, "a local repository must be an absolute path without '..'")
        return url
    if "://" not in url:
        if "::" in url:
            raise _refuse("repository URL", url, "git transports such as 'ext::' are not allowed")
        m = _SCP_RE.match(url)
        if not m or m["host"].startswith("-") or m["path"].startswith("-"):
            raise _refuse("repository URL", url, "use https://host/owner/repo.git or git@host:owner/repo.git")
        return url
    parts = urlsplit(url)
    if parts.scheme not in REMOTE_SCHEMES:
        raise _refuse("repository URL", url, f"the scheme must be one of {', '.join(REMOTE_SCHEMES)}")
    if parts.password is not None or (parts.username and parts.scheme in ("https", "http")):
        raise InvalidSource(
            "the repository URL must not contain credentials: remove them from the URL and give the "
            "application an access token (HTTPS) or a deploy key (SSH) instead"
        )
    host = parts.hostname or ""
    if not host or not _HOST_RE.match(host) or host.startswith("-"):
        raise _refuse("repository URL", url, "the host name is missing or malformed")
    if parts.query or parts.fragment or not _URL_PATH_RE.match(parts.path) or "/../" in parts.path + "/":
        raise _refuse("repository URL", url, "the path may hold letters, digits and . _ ~ / - only")
    return url


def is_local(url: str) -> bool:
    return url.startswith("/") or url.startswith("file://")


def validate_branch(name: str) -> str:
    """A branch name as git's check-ref-format accepts it, narrowed to the characters real branch
    names use (letters, digits, ``. _ / + -``) so no shell or option syntax can pass."""
    if not name or not _BRANCH_CHARS.match(name):
        raise _refuse("branch", name, "use letters, digits and . _ / + - only")
    if name.startswith(("-", "+", "/", ".")) or name.endswith(("/", ".", ".lock")):
        raise _refuse("branch", name, "it must not start with - + / . nor end with / . or .lock")
    if ".." in name or "//" in name or "/." in name:
        raise _refuse("branch", name, "it must not contain '..', '//' or a component starting with '.'")
    return name


def validate_commit(sha: str) -> str:
    """A commit id in hex (7 to 64 characters, lower-cased): never a ref expression."""
    value = sha.strip().lower()
    if not _COMMIT_RE.match(value):
        raise _refuse("commit", sha, "give a commit SHA in hex (7 to 40 characters)")
    return value


def is_full_commit(sha: str) -> bool:
    return bool(_FULL_COMMIT_RE.match(sha))


def mirror_dir(cache_dir: Path, url: str) -> Path:
    """One bare mirror per repository URL; the readable tail helps an operator find it."""
    tail = re.sub(r"[^A-Za-z0-9._-]+", "-", url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return cache_dir / f"{digest}-{tail.removesuffix('.git')[:40]}.git"


# -- argv builders ---------------------------------------------------------------------------

SAFE_CONFIG = ("-c", "credential.helper=", "-c", "core.hooksPath=/dev/null", "-c", "protocol.version=2")
"""No stored credential helper may catch a token; no hook in a repository runs on the builder."""


def git(*args: str) -> list[str]:
    return ["git", *SAFE_CONFIG, *args]


def clone_mirror_argv(url: str, dest: Path) -> list[str]:
    return git("clone", "--mirror", "--", validate_repo_url(url), str(dest))


def fetch_argv(mirror: Path) -> list[str]:
    # The mirror's refspec (+refs/*:refs/*) brings branches, tags and pull-request heads.
    return git("--git-dir", str(mirror), "fetch", "--prune", "--no-write-fetch-head", "origin")


def fetch_commit_argv(mirror: Path, commit: str) -> list[str]:
    """Ask for one commit by id: reaches a commit no ref points at where the host allows it."""
    return git("--git-dir", str(mirror), "fetch", "--no-write-fetch-head", "origin", validate_commit(commit))


def resolve_commit_argv(mirror: Path, commit: str) -> list[str]:
    return git(
        "--git-dir",
        str(mirror),
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{validate_commit(commit)}^{{commit}}",
    )


def resolve_branch_argv(mirror: Path, branch: str) -> list[str]:
    return git(
        "--git-dir",
        str(mirror),
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"refs/heads/{validate_branch(branch)}^{{commit}}",
    )


def worktree_add_argv(mirror: Path, dest: Path, commit: str) -> list[str]:
    if not is_full_commit(commit):
        raise _refuse("commit", commit, "resolve it to a full SHA before checking it out")
    return git("--git-dir", str(mirror), "worktree", "add", "--detach", "--", str(dest), commit)


def worktree_prune_argv(mirror: Path) -> list[str]:
    return git("--git-dir", str(mirror), "worktree", "prune")


def submodules_argv(work_tree: Path) -> list[str]:
    return git("-C", str(work_tree), "submodule", "update", "--init", "--recursive", "--jobs", "4")


def git_env(base: Mapping[str, str], url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every git call: never prompt (a prompt would hang the builder), allow
    only the transports this repository needs (see REMOTE_PROTOCOLS)."""
    env = {k: v for k, v in base.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ALLOW_PROTOCOL": LOCAL_PROTOCOLS if is_local(url) else REMOTE_PROTOCOLS,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
    )
    env.update(extra or {})
    return env
