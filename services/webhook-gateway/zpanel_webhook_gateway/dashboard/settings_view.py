"""An application's settings and variables, from the API's views (which already mask every
secret: secret env values read ``********``, notification URLs show only their scheme, and the
webhook secret is not there at all)."""

from __future__ import annotations

from typing import Any

from zpanel_webhook_gateway.dashboard.components import DASH
from zpanel_webhook_gateway.dashboard.html import Safe, render, seg


def _text(value: Any) -> Safe:
    if value is None or value == "" or value == []:
        return DASH
    if isinstance(value, bool):
        return render("{v}", v="yes" if value else "no")
    if isinstance(value, list):
        return render("{items}", items=[render("<code>{v}</code> ", v=v) for v in value])
    return render("<code>{v}</code>", v=value)


def settings_list(app: dict[str, Any], domains: Safe) -> Safe:
    health = app["health"]
    check = f"{health['type']} {health['path']}" if health["type"] == "http" else health["type"]
    rows: list[tuple[str, Safe]] = [
        ("Repository", _text(app["repo"])),
        ("Branch", _text(app["branch"])),
        ("Server", render('<a href="/servers#server-{s}">{name}</a>', s=seg(app["server"]), name=app["server"])),
        ("Domains", domains),
        ("Port", _text(app["port"])),
        ("Build", _text(app["build"])),
        ("Strategy", _text(app["strategy"])),
        ("Replicas", _text(app["replicas"])),
        ("Health check", _text(check)),
        ("Auto deploy on push", _text(app["auto_deploy"])),
        ("Watch paths", _text(app["watch_paths"])),
        ("Pull-request previews", _text(app["previews"])),
        ("Schedule", _text(app["schedule"])),
        ("Pre-deploy command", _text(app["pre_deploy"])),
        ("Post-deploy command", _text(app["post_deploy"])),
        ("Notifications", _text(app["notify"])),
    ]
    hooks = [render('<span class="muted">{p}</span><code>{u}</code>', p=p, u=u) for p, u in app["webhook_urls"].items()]
    items = [render("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in rows]
    items.append(render('<div class="wide"><dt>Webhook URLs</dt><dd class="hook">{h}</dd></div>', h=hooks))
    return render('<dl class="settings">{items}</dl>', items=items)


def env_table(env: list[dict[str, Any]]) -> Safe:
    if not env:
        return render(
            '<p class="empty">No variables. Set one with <code>zpanel env set APP KEY=VALUE [--secret]</code>.</p>'
        )
    rows = [
        render(
            '<tr data-key="{key}"><td><code>{key}</code></td><td><code class="{cls}">{value}</code></td><td>{flags}</td></tr>',
            key=var["key"],
            value=var["value"],
            cls="masked" if var["secret"] else "",
            flags=" ".join(f for f, on in (("secret", var["secret"]), ("build time", var["build_time"])) if on) or "—",
        )
        for var in env
    ]
    return render(
        '<table class="grid env"><thead><tr><th>Name</th><th>Value</th><th>Kind</th></tr></thead><tbody>{rows}</tbody></table>',
        rows=rows,
    )
