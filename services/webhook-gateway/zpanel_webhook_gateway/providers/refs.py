"""What git refs, commit ids and commit messages in a payload mean for a deployment.

Branch names and commit ids end up in ``git`` argv in the builder, so they are checked here
against git's own rules (``git check-ref-format``) and refused as malformed when they break them.
"""

from __future__ import annotations

import re

from zpanel_webhook_gateway.providers import payload, reasons
from zpanel_webhook_gateway.providers.base import Ignored, MalformedPayload
from zpanel_webhook_gateway.providers.payload import Doc

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"

_COMMIT_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")
_ZERO_RE = re.compile(r"^0+$")
_SKIP_RE = re.compile(r"\[(?:skip[ -]ci|ci[ -]skip|no[ -]ci|skip[ -]deploy|deploy[ -]skip)\]", re.IGNORECASE)
_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def is_zero(sha: str | None) -> bool:
    """An all-zero object id: the ref did not exist before (``before``) or was deleted (``after``)."""
    return bool(sha) and bool(_ZERO_RE.match(sha or ""))


def commit_id(value: str, field: str = "commit") -> str:
    """A full or abbreviated (Bitbucket: 12 characters) commit id, lower-cased."""
    if not _COMMIT_RE.match(value) or is_zero(value):
        raise MalformedPayload(f"{field} {value[:80]!r} is not a git commit id")
    return value.lower()


def branch_name(value: str, field: str = "branch") -> str:
    """A branch name git would accept (``git check-ref-format --branch``)."""
    if not valid_branch(value):
        raise MalformedPayload(f"{field} {value[:80]!r} is not a valid git branch name")
    return value


def valid_branch(name: str) -> bool:
    if not name or len(name) > 255 or name == "@" or name.startswith(("-", "/")):
        return False
    if name.endswith(("/", ".", ".lock")) or ".." in name or "@{" in name or "//" in name:
        return False
    if _BAD_REF_CHARS.search(name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def classify_ref(ref: str) -> str | Ignored:
    """The branch a ``refs/heads/…`` ref names, or why a push to this ref deploys nothing."""
    if ref.startswith(BRANCH_PREFIX):
        return branch_name(ref[len(BRANCH_PREFIX) :], "ref")
    if ref.startswith(TAG_PREFIX):
        return reasons.tag(ref[:120])
    return Ignored("not_a_branch", f"ref {ref[:120]!r} is not a branch")


def pushed_branch(doc: Doc, *, deleted_flag: bool = False) -> str | Ignored:
    """The branch a push names by ``ref`` and ``after`` (GitHub, GitLab, Gitea) updated, or why it
    deploys nothing. ``deleted_flag``: the payload also says ``deleted: true`` (GitHub)."""
    target = classify_ref(payload.text(doc, "ref"))
    if isinstance(target, Ignored):
        return target
    if (deleted_flag and payload.flag(doc, "deleted")) or is_zero(payload.opt_text(doc, "after")):
        return deleted(target)
    return target


def deleted(branch: str) -> Ignored:
    return Ignored("branch_deleted", f"branch {branch!r} was deleted: nothing to deploy")


def skip_marker(message: str | None) -> str | None:
    """The ``[skip ci]`` / ``[skip deploy]`` style marker in a commit message, if any."""
    if not message:
        return None
    found = _SKIP_RE.search(message)
    return found.group(0) if found else None


def skipped(commit: str, message: str | None) -> Ignored | None:
    """Why the head commit is not deployed, when its message carries a skip marker."""
    marker = skip_marker(message)
    return Ignored("skip_marker", f"head commit {commit[:12]} says {marker}: not deployed") if marker else None
