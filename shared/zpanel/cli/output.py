"""What commands print: with ``--json`` exactly the shapes of CONTRACT §3 (projected from the API's
answers, so extra API fields never leak into scripts' input), else rich tables for people."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

APP_KEYS = ("id", "name", "repo", "branch", "server", "domains", "webhook_urls")
DEPLOYMENT_KEYS = ("id", "app", "status", "commit", "image", "trigger", "created_at", "finished_at", "stages", "error")
STAGE_KEYS = ("name", "status", "started_at", "finished_at")
DEPLOY_KEYS = ("deployment_id", "status")


def console() -> Console:
    # Made per call: tests swap sys.stdout, and rich must write where the command's output goes.
    c = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    if not c.is_terminal:  # piped into grep or a file: no wrapping at 80 columns
        c = Console(file=sys.stdout, highlight=False, soft_wrap=False, width=200)
    return c


def err_console() -> Console:
    c = Console(file=sys.stderr, highlight=False)
    return c if c.is_terminal else Console(file=sys.stderr, highlight=False, width=200)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def emit_line(value: Any) -> None:
    """One compact JSON document per line (streams)."""
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


# --- contract shapes ----------------------------------------------------------------------------


def app_shape(app: dict[str, Any], *, with_secret: bool = False) -> dict[str, Any]:
    out = {k: app.get(k) for k in APP_KEYS}
    if with_secret:
        out["webhook_secret"] = app.get("webhook_secret")
    return out


def deployment_shape(dep: dict[str, Any]) -> dict[str, Any]:
    out = {k: dep.get(k) for k in DEPLOYMENT_KEYS}
    out["stages"] = [{k: s.get(k) for k in STAGE_KEYS} for s in dep.get("stages") or []]
    return out


def deploy_shape(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: answer.get(k) for k in DEPLOY_KEYS}


# --- human output -------------------------------------------------------------------------------


def _when(value: str | None) -> str:
    return (value or "").replace("T", " ")[:19]


def duration(started: str | None, finished: str | None) -> str:
    if not started or not finished:
        return ""
    try:
        seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except ValueError:
        return ""
    return f"{seconds:.2f}s" if seconds < 60 else f"{seconds / 60:.1f}m"


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title, show_edge=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    console().print(t)


def kv(pairs: list[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs)
    c = console()
    for k, v in pairs:
        c.print(f"[bold]{k.ljust(width)}[/bold]  {'' if v is None else v}")


def apps_table(apps: list[dict[str, Any]]) -> None:
    rows = [
        [a.get("name"), a.get("server"), a.get("repo"), a.get("branch"), ", ".join(a.get("domains") or [])]
        for a in apps
    ]
    table(None, ["NAME", "SERVER", "REPO", "BRANCH", "DOMAINS"], rows)


def app_detail(app: dict[str, Any], *, with_secret: bool = False) -> None:
    pairs: list[tuple[str, Any]] = [
        ("name", app.get("name")),
        ("id", app.get("id")),
        ("repo", f"{app.get('repo')} ({app.get('branch')})"),
        ("server", app.get("server")),
        ("domains", ", ".join(app.get("domains") or []) or "-"),
    ]
    for field in ("port", "build", "strategy", "replicas"):
        if field in app:
            value = app[field]
            pairs.append((field, value.get("kind") if isinstance(value, dict) else value))
    for provider, url in (app.get("webhook_urls") or {}).items():
        pairs.append((f"webhook {provider}", url))
    if with_secret:
        pairs.append(("webhook secret", app.get("webhook_secret")))
    for key, label in (("current_deployment", "current"), ("last_deployment", "last")):
        dep = app.get(key)
        if isinstance(dep, dict):
            pairs.append((f"{label} deployment", f"{dep.get('id')} {dep.get('status')} {dep.get('commit') or ''}"))
    kv(pairs)


def deployments_table(deps: list[dict[str, Any]]) -> None:
    rows = []
    for d in deps:
        stages = " ".join(
            f"{s.get('name')}:{duration(s.get('started_at'), s.get('finished_at')) or s.get('status')}"
            for s in d.get("stages") or []
        )
        rows.append(
            [
                d.get("id"),
                d.get("status"),
                (d.get("commit") or "")[:10],
                d.get("trigger"),
                _when(d.get("created_at")),
                duration(d.get("created_at"), d.get("finished_at")),
                stages,
            ]
        )
    table(None, ["ID", "STATUS", "COMMIT", "TRIGGER", "CREATED", "TOOK", "STAGES"], rows)


def deployment_detail(d: dict[str, Any]) -> None:
    kv(
        [
            ("id", d.get("id")),
            ("app", d.get("app")),
            ("status", d.get("status")),
            ("commit", d.get("commit")),
            ("image", d.get("image")),
            ("trigger", d.get("trigger")),
            ("created", _when(d.get("created_at"))),
            ("finished", _when(d.get("finished_at"))),
            ("error", d.get("error") or "-"),
        ]
    )
    rows = [
        [
            s.get("name"),
            s.get("status"),
            _when(s.get("started_at")),
            duration(s.get("started_at"), s.get("finished_at")),
        ]
        for s in d.get("stages") or []
    ]
    table(None, ["STAGE", "STATUS", "STARTED", "TOOK"], rows)


def status_table(doc: dict[str, Any]) -> None:
    kv(
        [
            ("api", doc.get("api_url")),
            ("dashboard", doc.get("dashboard_url")),
            ("nats", doc.get("nats_url")),
            ("proxy http port", doc.get("proxy_http_port")),
        ]
    )
    rows = [[s.get("name"), s.get("state"), s.get("pid") or "-", s.get("restarts")] for s in doc.get("services", [])]
    table(None, ["PROCESS", "STATE", "PID", "RESTARTS"], rows)
