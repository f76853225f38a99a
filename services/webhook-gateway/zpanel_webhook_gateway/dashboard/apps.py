"""Applications: the list (status, serving commit, domains, last deployment), one application
(settings, variables, deployments, the Deploy button), and the partials the pages refresh."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from zpanel.errors import PermanentError
from zpanel.models import Application, utcnow
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.applications import load_app
from zpanel_webhook_gateway.api.deps import Deps
from zpanel_webhook_gateway.dashboard.components import (
    DASH,
    any_open,
    commit,
    deployment_link,
    deployments_table,
    status_badge,
    when,
)
from zpanel_webhook_gateway.dashboard.html import Safe, render, seg
from zpanel_webhook_gateway.dashboard.layout import hidden_csrf, page_html, partial_html, section
from zpanel_webhook_gateway.dashboard.routing import PageRoute
from zpanel_webhook_gateway.dashboard.session import MemberForm, MemberPage
from zpanel_webhook_gateway.dashboard.settings_view import env_table, settings_list

router = APIRouter(route_class=PageRoute, include_in_schema=False)

COMMIT_RE = re.compile(r"^[0-9a-fA-F]{4,64}$")
HISTORY = 30


def live(url: str, busy: bool, inner: Safe) -> Safe:
    """A region dashboard.js refreshes from ``url``: often while something runs, rarely otherwise."""
    return render('<div data-live="{url}" data-busy="{busy}">{inner}</div>', url=url, busy=int(busy), inner=inner)


def domain_links(domains: list[str], deps: Deps) -> Safe:
    if not domains:
        return DASH
    port = deps.settings.proxy_http_port
    suffix = "" if port == 80 else f":{port}"
    return render(
        "{links}",
        links=[
            render('<a href="http://{d}{p}" rel="noopener" target="_blank">{d}</a> ', d=d, p=suffix) for d in domains
        ],
    )


async def app_summary(deps: Deps, app: Application) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    current_id = await deps.state.current(app.id)
    current = await deps.state.deployments.find(current_id) if current_id else None
    last = await deps.state.app_deployments(app.id, limit=1)
    return (
        views.deployment(current, deps) if current else None,
        views.deployment(last[0], deps) if last else None,
    )


async def _apps_table(deps: Deps) -> Safe:
    apps = sorted(await deps.state.apps.all(), key=lambda a: a.name)
    if not apps:
        return live(
            "/partials/apps",
            False,
            render(
                '<p class="empty">No applications yet. Register one with '
                "<code>zpanel app create NAME --repo URL --server local</code>.</p>"
            ),
        )
    summaries = await asyncio.gather(*(app_summary(deps, a) for a in apps))
    rows = []
    for app, (current, last) in zip(apps, summaries, strict=True):
        last_cell = (
            render(
                '{link} <span class="muted">{trigger}</span><br>{at}',
                link=deployment_link(last["id"]),
                trigger=last["trigger"],
                at=when(last["created_at"]),
            )
            if last
            else DASH
        )
        rows.append(
            render(
                '<tr data-app="{name}"><td><a href="/apps/{name}" class="app-name">{name}</a><div class="muted small">{repo} · {branch}</div></td>'
                "<td>{status}</td><td>{commit}</td><td>{domains}</td><td>{last}</td><td>{server}</td></tr>",
                name=app.name,
                repo=app.repo,
                branch=app.branch,
                status=status_badge(last["status"] if last else None),
                commit=commit(current["commit"] if current else None),
                domains=domain_links(app.domains, deps),
                last=last_cell,
                server=app.server,
            )
        )
    table = render(
        '<table class="grid apps"><thead><tr><th>Application</th><th>Status</th><th>Serving commit</th>'
        "<th>Domain</th><th>Last deployment</th><th>Server</th></tr></thead><tbody>{rows}</tbody></table>",
        rows=rows,
    )
    return live("/partials/apps", any_open([last for _, last in summaries]), table)


@router.get("/")
async def apps_page(page: MemberPage) -> Response:
    return page_html(page, "Applications", section("Applications", await _apps_table(page.deps)))


@router.get("/partials/apps")
async def apps_partial(page: MemberPage) -> Response:
    return partial_html(page, await _apps_table(page.deps))


async def _app_live(deps: Deps, app: Application) -> Safe:
    found = await deps.state.app_deployments(app.id, limit=HISTORY)
    deployments = [views.deployment(d, deps) for d in found]
    current_id = await deps.state.current(app.id)
    current = next((d for d in deployments if d["id"] == current_id), None)
    if current is None and current_id:
        record = await deps.state.deployments.find(current_id)
        current = views.deployment(record, deps) if record else None
    last = deployments[0] if deployments else None
    summary = render(
        '<dl class="facts"><div><dt>Status</dt><dd>{status}</dd></div>'
        "<div><dt>Serving</dt><dd>{serving}</dd></div><div><dt>Serving commit</dt><dd>{commit}</dd></div>"
        "<div><dt>Last deployment</dt><dd>{last}</dd></div></dl>",
        status=status_badge(last["status"] if last else None),
        serving=deployment_link(current["id"]) if current else DASH,
        commit=commit(current["commit"] if current else None),
        last=render("{l} {w}", l=deployment_link(last["id"]), w=when(last["created_at"])) if last else DASH,
    )
    table = deployments_table(deployments, utcnow(), current_id=current_id)
    inner = render("{summary}<h3>Deployments</h3>{table}", summary=summary, table=table)
    return live(f"/partials/apps/{seg(app.name)}", any_open(deployments), inner)


@router.get("/apps/{app}")
async def app_page(app: str, page: MemberPage) -> Response:
    deps = page.deps
    record = await load_app(deps, app)
    deploy = render(
        '<form method="post" action="/apps/{name}/deploy" class="deploy">{csrf}'
        '<input name="commit" placeholder="commit (default: head of {branch})" aria-label="commit to deploy" '
        'pattern="[0-9a-fA-F]{{4,64}}" spellcheck="false">'
        '<button type="submit" class="primary" id="deploy">Deploy</button></form>',
        name=seg(record.name),
        csrf=hidden_csrf(page),
        branch=record.branch,
    )
    shown = views.application(record, deps)
    env = [views.env_var(v) for v in sorted(record.env, key=lambda v: v.key)]
    body = render(
        '<div class="page-head"><h1>{name}</h1><div class="actions">{deploy}</div></div>{overview}{settings}{env}',
        name=record.name,
        deploy=deploy,
        overview=section("Overview", await _app_live(deps, record)),
        settings=section("Settings", settings_list(shown, domain_links(record.domains, deps))),
        env=section("Environment variables", env_table(env)),
    )
    return page_html(page, record.name, body)


@router.get("/partials/apps/{app}")
async def app_partial(app: str, page: MemberPage) -> Response:
    record = await load_app(page.deps, app)
    return partial_html(page, await _app_live(page.deps, record))


@router.post("/apps/{app}/deploy")
async def deploy(app: str, submitted: MemberForm) -> Response:
    page, form = submitted
    record = await load_app(page.deps, app)
    sha = form.get("commit", "").strip() or None
    if sha is not None and not COMMIT_RE.match(sha):
        raise PermanentError("commit: give a commit SHA (4 to 64 hex digits), or leave it empty for the branch head")
    dep = await page.deps.conductor.request(record, "manual", commit=sha)
    return RedirectResponse(f"/deployments/{seg(dep.id)}", status_code=303)
