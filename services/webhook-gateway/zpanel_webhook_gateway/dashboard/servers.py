"""Servers: each with its reachability (the gateway's server check, run when the page asks for it
so a slow SSH host never delays the page) and the applications it runs."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from zpanel_webhook_gateway.api.servers import load_server
from zpanel_webhook_gateway.dashboard.apps import app_summary, domain_links
from zpanel_webhook_gateway.dashboard.components import commit, deployment_link, status_badge
from zpanel_webhook_gateway.dashboard.html import Safe, render, seg
from zpanel_webhook_gateway.dashboard.layout import page_html, partial_html, section
from zpanel_webhook_gateway.dashboard.routing import PageRoute
from zpanel_webhook_gateway.dashboard.session import MemberPage

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CHECK_TIMEOUT_S = 20.0


def _probe(name: str, result: dict[str, Any]) -> Safe:
    ok = result.get("ok")
    word, cls = (
        ("reachable", "ok") if ok is True else ("unreachable", "bad") if ok is False else ("not checked", "unknown")
    )
    version = result.get("version")
    return render(
        '<div class="probe p-{cls}"><span class="probe-name">{name}</span> <strong>{word}</strong>{version}'
        '<div class="muted small">{detail}</div></div>',
        cls=cls,
        name=name,
        word=word,
        version=render(' <span class="muted">({v})</span>', v=version) if version else "",
        detail=result.get("detail") or "",
    )


@router.get("/partials/servers/{server}/check")
async def check(server: str, page: MemberPage) -> Response:
    record = await load_server(page.deps, server)
    try:
        result = await asyncio.wait_for(page.deps.server_checker(record, page.deps.cipher), CHECK_TIMEOUT_S)
    except TimeoutError:
        late = {"ok": False, "detail": f"no answer within {CHECK_TIMEOUT_S:.0f} s"}
        result = {"ssh": late, "docker": late}
    return partial_html(page, render("{s}{d}", s=_probe("SSH", result["ssh"]), d=_probe("Docker", result["docker"])))


@router.get("/servers")
async def servers_page(page: MemberPage) -> Response:
    deps = page.deps
    servers = sorted(await deps.state.servers.all(), key=lambda s: s.name)
    apps = sorted(await deps.state.apps.all(), key=lambda a: a.name)
    summaries = dict(
        zip([a.id for a in apps], await asyncio.gather(*(app_summary(deps, a) for a in apps)), strict=True)
    )
    cards = []
    for srv in servers:
        mine = [a for a in apps if a.server == srv.name]
        rows = []
        for app in mine:
            current, last = summaries[app.id]
            rows.append(
                render(
                    '<tr data-app="{name}"><td><a href="/apps/{name}">{name}</a></td><td>{status}</td><td>{serving}</td><td>{commit}</td><td>{domains}</td></tr>',
                    name=app.name,
                    status=status_badge(last["status"] if last else None),
                    serving=deployment_link(current["id"]) if current else "—",
                    commit=commit(current["commit"] if current else None),
                    domains=domain_links(app.domains, deps),
                )
            )
        table = (
            render(
                '<table class="grid"><thead><tr><th>Application</th><th>Status</th><th>Serving</th><th>Commit</th><th>Domain</th></tr></thead>'
                "<tbody>{rows}</tbody></table>",
                rows=rows,
            )
            if rows
            else render('<p class="empty">No applications on this server.</p>')
        )
        where = "this machine" if srv.kind == "local" else f"SSH {srv.user}@{srv.host}:{srv.port}"
        cards.append(
            render(
                '<section class="card server" id="server-{anchor}"><div class="card-head"><h2>{name}</h2>'
                '<div class="actions"><button type="button" class="js-recheck" data-target="check-{anchor}">Check again</button></div></div>'
                '<p class="muted">{where} · proxy {proxy}</p>'
                '<div class="probes" id="check-{anchor}" data-load="/partials/servers/{anchor}/check"><span class="muted">checking…</span></div>'
                "<h3>Applications</h3>{table}</section>",
                anchor=seg(srv.name),
                name=srv.name,
                where=where,
                proxy=srv.proxy,
                table=table,
            )
        )
    if not cards:
        body = section(
            "Servers",
            render(
                '<p class="empty">No servers yet. Add one with <code>zpanel server add NAME --host H --key FILE</code>.</p>'
            ),
        )
    else:
        body = render('<div class="page-head"><h1>Servers</h1></div>{cards}', cards=cards)
    return page_html(page, "Servers", body)
