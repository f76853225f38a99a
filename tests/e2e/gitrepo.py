"""A local Git remote the way users have one: a bare repository that applications deploy from,
and a working clone that commits and ``git push``es to it; and the GitHub push webhook that
follows a push, signed with the application's secret."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.builder.helpers import git

FIXTURE = Path(__file__).parents[1] / "fixtures" / "webhooks" / "github" / "push.json"
ZERO = "0" * 40


@dataclass
class Remote:
    bare: Path
    work: Path
    head: str = ZERO

    @classmethod
    def create(cls, root: Path) -> Remote:
        bare, work = root / "remote.git", root / "work"
        bare.mkdir(parents=True)
        git(bare, "init", "-q", "--bare", "-b", "main")
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        git(work, "remote", "add", "origin", str(bare))
        return cls(bare, work)

    def push(self, files: dict[str, str], message: str) -> tuple[str, str]:
        """Commit ``files`` and push to main; (the commit before, the pushed commit)."""
        for rel, text in files.items():
            path = self.work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if rel.endswith((".cgi", ".sh")):
                path.chmod(0o755)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        before, self.head = self.head, git(self.work, "rev-parse", "HEAD")
        git(self.work, "push", "-q", "origin", "main")
        return before, self.head


@cache
def _published() -> dict[str, Any]:
    return dict(json.loads(FIXTURE.read_text()))


def push_payload(remote: Remote, before: str, after: str, message: str) -> bytes:
    """GitHub's published push example with this repository, branch and commit put in."""
    doc = copy.deepcopy(_published())
    doc.update(ref="refs/heads/main", before=before, after=after, created=before == ZERO)
    doc["repository"]["clone_url"] = str(remote.bare)
    head = doc["head_commit"]
    head.update(id=after, message=message)
    doc["commits"] = [head]
    return json.dumps(doc).encode()


def github_headers(secret: str, body: bytes, delivery: str | None = None) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/e2e",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
    }
