"""Shared by the gateway tests: the real payloads under tests/fixtures/webhooks, signing as each
provider signs, and applications to match against."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from zpanel.models import Application

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
SECRET = "s3cret-for-tests"


def body(provider: str, name: str) -> bytes:
    """A fixture's exact bytes: signatures are computed over what is sent, byte for byte."""
    return (FIXTURES / provider / name).read_bytes()


def hex_hmac(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def github_headers(raw: bytes, event: str, secret: str = SECRET, delivery: str = "d-1") -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + hex_hmac(secret, raw),
        "Content-Type": "application/json",
    }


def gitlab_headers(event: str = "Push Hook", token: str = SECRET, delivery: str = "d-1") -> dict[str, str]:
    return {"X-Gitlab-Event": event, "X-Gitlab-Token": token, "X-Gitlab-Event-UUID": delivery}


def bitbucket_headers(raw: bytes, key: str, secret: str = SECRET, delivery: str = "d-1") -> dict[str, str]:
    return {"X-Event-Key": key, "X-Request-UUID": delivery, "X-Hub-Signature": "sha256=" + hex_hmac(secret, raw)}


def gitea_headers(raw: bytes, event: str, secret: str = SECRET, delivery: str = "d-1") -> dict[str, str]:
    return {"X-Gitea-Event": event, "X-Gitea-Delivery": delivery, "X-Gitea-Signature": hex_hmac(secret, raw)}


def app(name: str = "web", repo: str = "https://github.com/Codertocat/Hello-World.git", **fields: Any) -> Application:
    fields.setdefault("branch", "master")
    return Application(id=f"id-{name}", name=name, repo=repo, server="local", webhook_secret=SECRET, **fields)
