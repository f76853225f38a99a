"""One deployment: status, stage timeline, failure reason, the live log (dashboard.js follows the
API's log WebSocket until its terminal status), Cancel, and "Redeploy this version" (a rollback
through the conductor). ``/deployments/{id}`` is the link notifications carry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from zpanel.models import utcnow
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.deployments import load_deployment
from zpanel_webhook_gateway.api.deps import Deps
from zpanel_webhook_gateway.dashboard.components import (
    DASH,
    commit,
    deployment_seconds,
    duration_text,
    is_terminal,
    status_badge,
    trigger_text,
    when,
)
from zpanel_webhook_gateway.dashboard.html import Safe, render, seg
from zpanel_webhook_gateway.dashboard.layout import button_form, page_html, partial_html, section
from zpanel_webhook_gateway.dashboard.routing import PageRoute
from zpanel_webhook_gateway.dashboard.session import MemberForm, MemberPage, Page
from zpanel_webhook_gateway.dashboard.timeline import timeline

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _actions(page: Page, dep: dict[str, Any]) -> Safe:
    base = f"/deployments/{seg(dep['id'])}"
    parts = []
    if not is_terminal(dep["status"]):
        if dep.get("cancel_requested"):
            parts.append(render('<span class="muted">cancelling…</span>'))
        else:
            parts.append(button_form(page, f"{base}/cancel", "Cancel", cls="danger", confirm="Cancel this deployment?"))
    elif dep["status"] == "succeeded" and dep.get("image"):
        parts.append(
            button_form(
                page,
                f"{base}/redeploy",
                "Redeploy this version",
                cls="primary",
                confirm="Run this deployment's image again (a rollback, no rebuild)?",
            )
        )
    return render('<div class="actions">{p}</div>', p=parts)


async def _live(page: Page, deps: Deps, dep_id: str) -> Safe:
    dep = views.deployment(await load_deployment(deps, dep_id), deps)
    now = utcnow()
    done = is_terminal(dep["status"])
    facts = [
        ("Status", status_badge(dep["status"])),
        ("Commit", commit(dep.get("commit"))),
        ("Trigger", trigger_text(dep)),
        ("Server", render('<a href="/servers#server-{s}">{s}</a>', s=dep["server"])),
        ("Started", when(dep.get("created_at"))),
        ("Finished", when(dep.get("finished_at"))),
        ("Duration", render("{d}", d=duration_text(deployment_seconds(dep, now)))),
        ("Image", render("<code>{i}</code>", i=dep["image"]) if dep.get("image") else DASH),
    ]
    if dep.get("url"):
        facts.append(("URL", render('<a href="{u}" rel="noopener" target="_blank">{u}</a>', u=dep["url"])))
    reason = (
        render(
            '<div class="reason" role="alert"><strong>Why it {s}:</strong> {e}</div>', s=dep["status"], e=dep["error"]
        )
        if dep.get("error") and dep["status"] != "succeeded"
        else Safe("")
    )
    inner = render(
        '<div class="card-head"><h2>Status</h2>{actions}</div>'
        '<dl class="facts">{facts}</dl>{reason}<h3>Stages</h3>{timeline}',
        actions=_actions(page, dep),
        facts=[render("<div><dt>{k}</dt><dd>{v}</dd></div>", k=k, v=v) for k, v in facts],
        reason=reason,
        timeline=timeline(dep, now),
    )
    return render(
        '<section class="card" data-live="/partials/deployments/{id}" data-busy="{busy}" data-status="{status}">{inner}</section>',
        id=seg(dep["id"]),
        busy=0 if done else 1,
        status=dep["status"],
        inner=inner,
    )


@router.get("/deployments/{deployment_id}")
async def deployment_page(deployment_id: str, page: MemberPage) -> Response:
    deps = page.deps
    record = await load_deployment(deps, deployment_id)
    log = render(
        '<div class="log-head"><span id="log-state" class="muted">connecting…</span>'
        '<label class="muted small"><input type="checkbox" id="log-follow" checked> follow</label></div>'
        '<pre class="log" id="log" data-ws="/api/v1/deployments/{id}/logs/ws" tabindex="0" aria-live="polite"></pre>',
        id=seg(record.id),
    )
    body = render(
        '<div class="page-head"><h1>Deployment <span class="mono">{short}</span> of <a href="/apps/{app}">{app}</a></h1></div>'
        "{live}{log}",
        short=record.id[:8],
        app=record.app_name,
        live=await _live(page, deps, record.id),
        log=section("Log", log, cls="log-card"),
    )
    return page_html(page, f"{record.app_name} · {record.id[:8]}", body)


@router.get("/partials/deployments/{deployment_id}")
async def deployment_partial(deployment_id: str, page: MemberPage) -> Response:
    return partial_html(page, await _live(page, page.deps, deployment_id))


@router.post("/deployments/{deployment_id}/cancel")
async def cancel(deployment_id: str, submitted: MemberForm) -> Response:
    page, _ = submitted
    dep = await load_deployment(page.deps, deployment_id)
    await page.deps.conductor.cancel(dep.id)
    return RedirectResponse(f"/deployments/{seg(dep.id)}", status_code=303)


@router.post("/deployments/{deployment_id}/redeploy")
async def redeploy(deployment_id: str, submitted: MemberForm) -> Response:
    page, _ = submitted
    target = await load_deployment(page.deps, deployment_id)
    app = await page.deps.state.app(target.app_id)
    dep = await page.deps.conductor.rollback(app, target.id)
    return RedirectResponse(f"/deployments/{seg(dep.id)}", status_code=303)
