"""The source executor: a cached bare mirror per repository, and the exact commit exported into a
clean per-deployment directory (worktree, then its git metadata removed so the build context
holds source only and is byte-identical for the same commit, which keeps BuildKit's cache warm).

Several builder processes may share one cache directory: every step that touches a mirror runs
under an exclusive lock on ``<mirror>.lock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from zpanel_builder import process, source
from zpanel_builder.credentials import GitCredentials, credential_env
from zpanel_builder.errors import SourceError, UnknownCommit
from zpanel_builder.process import LineCallback
from zpanel_builder.redact import Redactor


@dataclass(frozen=True)
class Checkout:
    path: Path
    commit: str
    """The full SHA that was checked out."""


@contextlib.asynccontextmanager
async def _locked(lock_file: Path) -> AsyncIterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _strip_git_metadata(root: Path) -> None:
    """Remove every ``.git`` entry (the worktree's and each submodule's gitdir pointer)."""
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in filenames:
            os.unlink(os.path.join(dirpath, ".git"))
        if ".git" in dirnames:
            shutil.rmtree(os.path.join(dirpath, ".git"))
            dirnames.remove(".git")


@dataclass(frozen=True)
class _Call:
    """What every git call of one operation shares."""

    url: str
    env: dict[str, str]
    redact: Redactor
    on_line: LineCallback | None


class SourceCache:
    """Mirrors under ``cache_dir``; ``timeout`` bounds each git call (seconds)."""

    def __init__(self, cache_dir: Path, *, timeout: float = 600.0) -> None:
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout

    async def _git(
        self, call: _Call, argv: list[str], what: str, *, check: bool = True, quiet: bool = False
    ) -> process.ProcessResult:
        result = await process.run(
            argv, env=call.env, on_line=None if quiet else call.on_line, timeout=self.timeout, redact=call.redact
        )
        if result.timed_out:
            raise SourceError(f"git {what} of {call.url} did not finish within {self.timeout:.0f}s; try again later")
        if check and result.returncode != 0:
            last = next((ln for ln in reversed(result.tail) if ln.strip()), "no output")
            raise SourceError(f"git {what} of {call.url} failed: {last}")
        return result

    async def _rev_parse(self, call: _Call, argv: list[str]) -> str | None:
        result = await self._git(call, argv, "rev-parse", check=False, quiet=True)
        found = result.tail[-1].strip() if result.returncode == 0 and result.tail else ""
        return found if source.is_full_commit(found) else None

    async def _sync_mirror(self, call: _Call, mirror: Path, want: str | None) -> None:
        """Clone the mirror the first time; fetch when ``want`` (a commit) is missing or None."""
        if not await asyncio.to_thread(mirror.exists):
            tmp = mirror.with_name(f"{mirror.name}.tmp-{uuid.uuid4().hex[:8]}")
            try:
                await self._git(call, source.clone_mirror_argv(call.url, tmp), "clone")
                tmp.rename(mirror)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return
        if want is not None and await self._rev_parse(call, source.resolve_commit_argv(mirror, want)):
            return  # a redeploy of a known commit needs no network
        await self._git(call, source.fetch_argv(mirror), "fetch")

    @staticmethod
    def _call(url: str, cred_env: dict[str, str], creds: GitCredentials | None, on_line: LineCallback | None) -> _Call:
        redact = Redactor(creds.secrets() if creds else ())
        return _Call(url, source.git_env(os.environ, url, cred_env), redact, on_line)

    async def head_of(
        self, url: str, branch: str, *, credentials: GitCredentials | None = None, on_line: LineCallback | None = None
    ) -> str:
        """The commit a branch points at now (after a fetch): for a manual deploy without a SHA."""
        source.validate_repo_url(url)
        source.validate_branch(branch)
        mirror = source.mirror_dir(self.cache_dir, url)
        with credential_env(credentials, self.cache_dir) as cred_env:
            call = self._call(url, cred_env, credentials, on_line)
            async with _locked(mirror.with_suffix(".lock")):
                await self._sync_mirror(call, mirror, None)
                head = await self._rev_parse(call, source.resolve_branch_argv(mirror, branch))
        if head is None:
            raise UnknownCommit(f"branch {branch!r} does not exist in {url}: push it or fix the application's branch")
        return head

    async def checkout(
        self,
        url: str,
        commit: str,
        dest: Path,
        *,
        submodules: bool = False,
        credentials: GitCredentials | None = None,
        on_line: LineCallback | None = None,
    ) -> Checkout:
        """Export ``commit`` of ``url`` into ``dest`` (which must not exist yet)."""
        source.validate_repo_url(url)
        short = source.validate_commit(commit)
        dest = Path(dest)
        if dest.exists():
            raise FileExistsError(f"{dest} exists: give each deployment a fresh directory")
        mirror = source.mirror_dir(self.cache_dir, url)
        lock = mirror.with_suffix(".lock")
        with credential_env(credentials, self.cache_dir) as cred_env:
            call = self._call(url, cred_env, credentials, on_line)
            async with _locked(lock):
                await self._sync_mirror(call, mirror, short)
                full = await self._rev_parse(call, source.resolve_commit_argv(mirror, short))
                if full is None:
                    await self._git(call, source.fetch_commit_argv(mirror, short), "fetch", check=False, quiet=True)
                    full = await self._rev_parse(call, source.resolve_commit_argv(mirror, short))
                if full is None:
                    raise UnknownCommit(
                        f"commit {commit} is not in {url} (fetched every branch and tag): "
                        "push it first, or check the SHA"
                    )
                await self._git(call, source.worktree_add_argv(mirror, dest, full), "checkout")
            try:
                if submodules and (dest / ".gitmodules").exists():
                    await self._git(call, source.submodules_argv(dest), "submodule update")
            finally:
                # Export: the directory keeps source only; the mirror forgets the worktree.
                await asyncio.to_thread(_strip_git_metadata, dest)
                async with _locked(lock):
                    await self._git(call, source.worktree_prune_argv(mirror), "worktree prune", check=False, quiet=True)
        return Checkout(path=dest, commit=full)

    @staticmethod
    async def remove(checkout: Checkout) -> None:
        """Delete a checkout's directory (the mirror no longer refers to it)."""
        await asyncio.to_thread(shutil.rmtree, checkout.path, True)
