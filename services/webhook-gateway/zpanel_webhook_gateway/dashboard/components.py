"""Small pieces every page uses: status badges, times (localised in the browser), commits,
durations, the deployments table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from zpanel.models import TERMINAL, Status
from zpanel_webhook_gateway.dashboard.html import Safe, render, seg

TERMINAL_VALUES = frozenset(s.value for s in TERMINAL)
DASH = Safe('<span class="muted">—</span>')


def is_terminal(status: str) -> bool:
    return status in TERMINAL_VALUES


def status_badge(status: str | None) -> Safe:
    if not status:
        return render('<span class="status s-none">never deployed</span>')
    live = "" if is_terminal(status) else " live"
    return render('<span class="status s-{s}{live}" data-status="{s}">{s}</span>', s=status, live=live)


def when(iso: str | None) -> Safe:
    """A time the browser shows in its own locale (dashboard.js); the ISO text is the fallback."""
    if not iso:
        return DASH
    return render('<time datetime="{iso}">{text}</time>', iso=iso, text=iso.replace("T", " ")[:19] + " UTC")


def commit(sha: str | None) -> Safe:
    if not sha:
        return DASH
    return render('<code class="sha" title="{sha}">{short}</code>', sha=sha, short=sha[:7])


def parse_ts(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def deployment_seconds(dep: dict[str, Any], now: datetime) -> float | None:
    start = parse_ts(dep.get("created_at"))
    if start is None:
        return None
    end = parse_ts(dep.get("finished_at")) or (None if is_terminal(dep["status"]) else now)
    return (end - start).total_seconds() if end else None


def deployment_link(dep_id: str, text: str | None = None) -> Safe:
    return render('<a href="/deployments/{id}" class="mono">{text}</a>', id=seg(dep_id), text=text or dep_id[:8])


def trigger_text(dep: dict[str, Any]) -> Safe:
    if dep.get("trigger") == "rollback" and dep.get("rollback_of"):
        return render("rollback of {link}", link=deployment_link(dep["rollback_of"]))
    return render("{t}", t=dep.get("trigger") or "—")


def deployments_table(
    deployments: list[dict[str, Any]], now: datetime, *, current_id: str | None = None, show_app: bool = False
) -> Safe:
    if not deployments:
        return render('<p class="empty">No deployments yet.</p>')
    head = ["Deployment", *(["Application"] if show_app else []), "Status", "Commit", "Trigger", "Started", "Duration"]
    rows = []
    for dep in deployments:
        mark = render(' <span class="tag">serving</span>') if dep["id"] == current_id else Safe("")
        cells = [
            render("{link}{mark}", link=deployment_link(dep["id"]), mark=mark),
            *([render('<a href="/apps/{a}">{a}</a>', a=dep["app"])] if show_app else []),
            status_badge(dep["status"]),
            commit(dep.get("commit")),
            trigger_text(dep),
            when(dep.get("created_at")),
            render("{d}", d=duration_text(deployment_seconds(dep, now))),
        ]
        rows.append(
            render('<tr data-id="{id}">{cells}</tr>', id=dep["id"], cells=[render("<td>{c}</td>", c=c) for c in cells])
        )
    return render(
        '<table class="grid deployments"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>',
        head=[render("<th>{h}</th>", h=h) for h in head],
        rows=rows,
    )


def any_open(deployments: Sequence[dict[str, Any] | None]) -> bool:
    return any(d is not None and not is_terminal(d["status"]) for d in deployments)


__all__ = ["Status", "any_open", "commit", "deployments_table", "status_badge", "when"]
