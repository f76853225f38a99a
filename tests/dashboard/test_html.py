"""Escaping by default, and the small formatting pieces, by exact value."""

from __future__ import annotations

from datetime import UTC, datetime

from zpanel_webhook_gateway.dashboard.components import duration_text, status_badge, when
from zpanel_webhook_gateway.dashboard.html import Safe, esc, render
from zpanel_webhook_gateway.dashboard.timeline import timeline


def test_values_are_text_unless_marked_safe() -> None:
    assert render("<b>{x}</b>", x="<script>'\"&") == "<b>&lt;script&gt;&#x27;&quot;&amp;</b>"
    assert render("<b>{x}</b>", x=Safe("<i>ok</i>")) == "<b><i>ok</i></b>"
    assert render("<p>{xs}</p>", xs=["<a>", Safe("<br>")]) == "<p>&lt;a&gt;<br></p>"
    assert render("{x}", x="{y}") == "{y}"  # a value is never a template
    assert esc(None) == "" and esc(3) == "3"


def test_durations_read_naturally() -> None:
    assert [duration_text(s) for s in (None, 0.04, 9.95, 12.4, 65, 3599, 3725)] == [
        "—",
        "0.0 s",
        "9.9 s",
        "12 s",
        "1 min 05 s",
        "59 min 59 s",
        "1 h 02 min",
    ]


def test_badges_and_times() -> None:
    assert status_badge("succeeded") == '<span class="status s-succeeded" data-status="succeeded">succeeded</span>'
    assert status_badge("building") == '<span class="status s-building live" data-status="building">building</span>'
    assert status_badge(None) == '<span class="status s-none">never deployed</span>'
    assert when("2025-01-02T03:04:05.678+00:00") == (
        '<time datetime="2025-01-02T03:04:05.678+00:00">2025-01-02 03:04:05 UTC</time>'
    )


def test_the_timeline_places_each_stage_on_one_axis() -> None:
    def at(s: float) -> str:
        return datetime(2025, 1, 1, 0, 0, int(s), int((s % 1) * 1e6), tzinfo=UTC).isoformat()

    dep = {
        "status": "health_checking",
        "created_at": at(0),
        "finished_at": None,
        "stages": [
            {"name": "queue", "status": "succeeded", "started_at": at(0), "finished_at": at(2)},
            {"name": "build", "status": "succeeded", "started_at": at(2), "finished_at": at(12)},
            {"name": "deploy", "status": "succeeded", "started_at": at(12), "finished_at": at(15)},
            {"name": "health", "status": "running", "started_at": at(15), "finished_at": None},
        ],
    }
    now = datetime(2025, 1, 1, 0, 0, 20, tzinfo=UTC)
    html = timeline(dep, now)
    bars = [
        (
            part.split('data-stage="')[1].split('"')[0],
            part.split('x="')[1].split('"')[0],
            part.split('width="')[2].split('"')[0],
        )
        for part in html.split("<li")[1:]
        if "<rect" in part
    ]
    assert bars == [
        ("queue", "0.00%", "10.00%"),
        ("build", "10.00%", "50.00%"),
        ("deploy", "60.00%", "15.00%"),
        ("health", "75.00%", "25.00%"),
    ]
    assert '<span class="stage-status">running</span><span class="stage-dur">5.0 s</span>' in html
    assert '<li class="stage st-pending" data-stage="route">' in html
