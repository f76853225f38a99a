"""Records → the JSON of api.md. Secrets never leave here: webhook secrets and private keys are
left out, secret env values show as ``********``, notification URLs (they hold tokens) show only
their scheme."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from zpanel.errors import SecretError
from zpanel.events import DeadLetter, LogLine
from zpanel.models import Application, Deployment, EnvVar, Server, Status
from zpanel.secrets import MASK, Cipher, redactor
from zpanel_webhook_gateway.api.deps import Deps


def ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def application(app: Application, deps: Deps) -> dict[str, Any]:
    return {
        "id": app.id,
        "name": app.name,
        "repo": app.repo,
        "branch": app.branch,
        "server": app.server,
        "domains": list(app.domains),
        "port": app.port,
        "build": app.build.kind,
        "build_settings": app.build.model_dump(mode="json"),
        "strategy": app.strategy,
        "replicas": app.replicas,
        "previews": app.previews,
        "schedule": app.schedule,
        "pre_deploy": app.pre_deploy,
        "post_deploy": app.post_deploy,
        "health": app.health.model_dump(mode="json"),
        "notify": [notify_target(sealed, deps.cipher) for sealed in app.notify],
        "auto_deploy": app.auto_deploy,
        "watch_paths": list(app.watch_paths),
        "drain_timeout": app.drain_timeout,
        "resources": {"memory": app.memory, "cpus": app.cpus, "volumes": list(app.volumes)},
        "webhook_urls": deps.webhook_urls(),
        "created_at": ts(app.created_at),
    }


def notify_target(sealed: str, cipher: Cipher) -> str:
    """``slack://********``: enough to tell targets apart, nothing that lets anyone post to them."""
    try:
        plain = cipher.open(sealed)
    except SecretError:
        return MASK
    scheme, sep, _ = plain.partition("://")
    return f"{scheme}://{MASK}" if sep else MASK


def env_var(var: EnvVar) -> dict[str, Any]:
    return {
        "key": var.key,
        "value": MASK if var.secret else var.value,
        "secret": var.secret,
        "build_time": var.build_time,
    }


def deployment(dep: Deployment, deps: Deps) -> dict[str, Any]:
    return {
        "id": dep.id,
        "app": dep.app_name,
        "app_id": dep.app_id,
        "server": dep.server_id,
        "status": dep.status.value,
        "commit": dep.commit,
        "branch": dep.branch,
        "image": dep.image,
        "trigger": dep.trigger,
        "preview": dep.preview,
        "created_at": ts(dep.created_at),
        "finished_at": ts(dep.finished_at),
        "stages": [
            {
                "name": s.name,
                "status": s.status,
                "started_at": ts(s.started_at),
                "finished_at": ts(s.finished_at),
                "duration_s": (s.finished_at - s.started_at).total_seconds()
                if s.started_at and s.finished_at
                else None,
            }
            for s in dep.stages
        ],
        "error": redactor(dep.error) if dep.error else None,
        "rollback_of": dep.rollback_of,
        "cancel_requested": dep.cancel_requested,
        "url": deployment_url(dep, deps),
    }


def deployment_url(dep: Deployment, deps: Deps) -> str | None:
    """Where a succeeded deployment serves: its app's first domain (``pr-<n>.`` for a preview)."""
    if dep.status is not Status.SUCCEEDED or dep.spec is None or not dep.spec.domains:
        return None
    host = dep.spec.domains[0]
    if dep.preview is not None:
        host = f"pr-{dep.preview}.{host}"
    port = deps.settings.proxy_http_port
    return f"http://{host}" + ("" if port == 80 else f":{port}")


def server(srv: Server) -> dict[str, Any]:
    return {
        "id": srv.name,
        "name": srv.name,
        "kind": srv.kind,
        "host": srv.host,
        "port": srv.port,
        "user": srv.user,
        "proxy": srv.proxy,
        "known_hosts": srv.known_hosts,
        "has_private_key": bool(srv.private_key),
        "max_concurrency": srv.max_concurrency,
        "created_at": ts(srv.created_at),
    }


def log_line(line: LogLine) -> dict[str, Any]:
    return {"ts": ts(line.timestamp), "stage": line.stage, "stream": line.stream, "line": redactor(line.line)}


def dead_letter(seq: int, letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": seq,
        "stage": letter.stage,
        "subject": letter.subject,
        "reason": redactor(letter.reason),
        "num_delivered": letter.num_delivered,
        "deployment_id": letter.deployment_id,
        "failed_at": ts(letter.timestamp),
    }
