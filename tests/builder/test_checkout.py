"""The source executor against real git repositories made in the test."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.builder.helpers import git, make_repo
from zpanel_builder import source
from zpanel_builder.checkout import SourceCache
from zpanel_builder.errors import InvalidSource, UnknownCommit


def files_of(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_exports_the_exact_commit_without_git_metadata(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = make_repo(repo, {"app.txt": "v1\n", "lib/a.py": "a\n"})
    make_repo(repo, {"app.txt": "v2\n"}, "second")
    cache = SourceCache(tmp_path / "cache")
    lines: list[str] = []
    out = await cache.checkout(str(repo), first[:10], tmp_path / "w1", on_line=lines.append)
    assert out.commit == first
    assert files_of(out.path) == {"app.txt": "v1\n", "lib/a.py": "a\n"}
    assert not (out.path / ".git").exists()
    assert any("Cloning into bare repository" in line for line in lines)
    mirror = source.mirror_dir(tmp_path / "cache", str(repo))
    assert git(mirror, "worktree", "list", "--porcelain").splitlines() == ["worktree " + str(mirror), "bare"]


async def test_later_commits_are_fetched_into_the_same_mirror(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = make_repo(repo, {"app.txt": "v1\n"})
    cache = SourceCache(tmp_path / "cache")
    await cache.checkout(str(repo), first, tmp_path / "w1")
    second = make_repo(repo, {"app.txt": "v2\n"}, "second")
    out = await cache.checkout(f"file://{repo}", second, tmp_path / "w2")  # another URL: another mirror
    assert files_of(out.path) == {"app.txt": "v2\n"}
    again = await cache.checkout(str(repo), second, tmp_path / "w3")
    assert files_of(again.path) == {"app.txt": "v2\n"}
    assert sorted(p.name.split("-", 1)[1] for p in (tmp_path / "cache").glob("*.git")) == ["repo.git", "repo.git"]
    assert await cache.head_of(str(repo), "main") == second


async def test_unknown_commit_is_a_clear_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, {"a": "1"})
    with pytest.raises(UnknownCommit, match=r"commit deadbeef0 is not in .*repo .*push it first, or check the SHA"):
        await SourceCache(tmp_path / "cache").checkout(str(repo), "deadbeef0", tmp_path / "w")
    assert not (tmp_path / "w").exists()


async def test_unknown_branch_is_a_clear_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, {"a": "1"})
    with pytest.raises(UnknownCommit, match="branch 'nope' does not exist in"):
        await SourceCache(tmp_path / "cache").head_of(str(repo), "nope")


async def test_option_and_shell_refs_fail_before_git_runs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, {"a": "1"})
    marker = tmp_path / "pwned"
    cache = SourceCache(tmp_path / "cache")
    with pytest.raises(InvalidSource, match="give a commit SHA in hex"):
        await cache.checkout(str(repo), f"--upload-pack=touch {marker}", tmp_path / "w")
    with pytest.raises(InvalidSource, match="branch ';rm -rf /' is not valid"):
        await cache.head_of(str(repo), ";rm -rf /")
    with pytest.raises(InvalidSource, match="repository URL"):
        await cache.checkout(f"--upload-pack=touch {marker}", "abcdef1", tmp_path / "w")
    assert not marker.exists()
    assert not (tmp_path / "cache").exists()


async def test_submodules_are_checked_out_when_enabled(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    make_repo(sub, {"lib.txt": "from the submodule\n"})
    repo = tmp_path / "repo"
    make_repo(repo, {"app.txt": "main\n"})
    git(repo, "submodule", "add", "-q", str(sub), "vendor/lib")
    commit = make_repo(repo, {}, "add submodule")
    cache = SourceCache(tmp_path / "cache")
    with_subs = await cache.checkout(str(repo), commit, tmp_path / "w1", submodules=True)
    assert files_of(with_subs.path) == {
        ".gitmodules": f'[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = {sub}\n',
        "app.txt": "main\n",
        "vendor/lib/lib.txt": "from the submodule\n",
    }
    assert not (with_subs.path / "vendor/lib/.git").exists()
    without = await cache.checkout(str(repo), commit, tmp_path / "w2")
    assert sorted(files_of(without.path)) == [".gitmodules", "app.txt"]
    assert (without.path / "vendor/lib").is_dir()


async def test_concurrent_checkouts_of_one_repository_share_the_mirror(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commits = [make_repo(repo, {"n.txt": f"{i}\n"}, f"c{i}") for i in range(3)]
    cache = SourceCache(tmp_path / "cache")
    outs = await asyncio.gather(*(cache.checkout(str(repo), c, tmp_path / f"w{i}") for i, c in enumerate(commits)))
    assert [files_of(o.path) for o in outs] == [{"n.txt": "0\n"}, {"n.txt": "1\n"}, {"n.txt": "2\n"}]
    await SourceCache.remove(outs[0])
    assert not outs[0].path.exists()
