"""A deployment's stages as a timeline: one bar per stage, placed on a common time axis from the
request to the end (or to now while it runs), so where the time went shows at a glance.

SVG attributes position the bars, not inline styles: the pages' CSP forbids inline styles.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from zpanel_webhook_gateway.dashboard.components import duration_text, is_terminal, parse_ts
from zpanel_webhook_gateway.dashboard.html import Safe, render

STAGES = ("queue", "build", "deploy", "health", "route", "finish")
MIN_WIDTH = 0.8  # percent: a stage of a few milliseconds still shows as a sliver


def _end(dep: dict[str, Any], now: datetime) -> datetime:
    ends = [parse_ts(s.get("finished_at")) for s in dep["stages"]] + [parse_ts(dep.get("finished_at"))]
    known = [e for e in ends if e is not None]
    if not is_terminal(dep["status"]):
        known.append(now)
    return max(known) if known else now


def stage_seconds(stage: dict[str, Any], now: datetime) -> float | None:
    start, end = parse_ts(stage.get("started_at")), parse_ts(stage.get("finished_at"))
    if start is None:
        return None
    if end is None:
        return (now - start).total_seconds() if stage["status"] == "running" else None
    return (end - start).total_seconds()


def timeline(dep: dict[str, Any], now: datetime) -> Safe:
    t0 = parse_ts(dep.get("created_at")) or now
    span = max((_end(dep, now) - t0).total_seconds(), 0.001)
    by_name = {s["name"]: s for s in dep["stages"]}
    rows = []
    for name in STAGES:
        stage = by_name.get(name)
        status = stage["status"] if stage else ("not run" if is_terminal(dep["status"]) else "pending")
        seconds = stage_seconds(stage, now) if stage else None
        bar = Safe("")
        # a stage that only ended (the finish of a failed deployment) shows as a mark where it ended
        start = (parse_ts(stage.get("started_at")) or parse_ts(stage.get("finished_at"))) if stage else None
        if start is not None:
            x = min(max((start - t0).total_seconds() / span * 100, 0.0), 100.0)
            width = max((seconds or 0.0) / span * 100, MIN_WIDTH)
            width = min(width, 100.0 - x) if x < 100.0 - MIN_WIDTH else MIN_WIDTH
            x = min(x, 100.0 - width)
            bar = render(
                '<rect x="{x}%" y="1" width="{w}%" height="12" rx="3" class="bar"><title>{name}: {d}</title></rect>',
                x=f"{x:.2f}",
                w=f"{width:.2f}",
                name=name,
                d=duration_text(seconds),
            )
        rows.append(
            render(
                '<li class="stage st-{cls}" data-stage="{name}"><span class="stage-name">{name}</span>'
                '<svg class="track" width="100%" height="14" role="presentation">{bar}</svg>'
                '<span class="stage-status">{status}</span><span class="stage-dur">{dur}</span></li>',
                cls=status.replace(" ", "-"),
                name=name,
                bar=bar,
                status=status,
                dur=duration_text(seconds) if seconds is not None else "",
            )
        )
    return render('<ol class="timeline" aria-label="stages">{rows}</ol>', rows=rows)
