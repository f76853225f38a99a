"""Dead-lettered work: what failed past its retries, where, why; Replay publishes it again."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from zpanel.bus import list_letters, replay
from zpanel.errors import NotFound
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.dashboard.components import DASH, deployment_link, when
from zpanel_webhook_gateway.dashboard.html import render
from zpanel_webhook_gateway.dashboard.layout import button_form, page_html, section
from zpanel_webhook_gateway.dashboard.routing import PageRoute
from zpanel_webhook_gateway.dashboard.session import MemberForm, MemberPage

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_ID = 2**63 - 1


@router.get("/dlq")
async def dlq_page(page: MemberPage, replayed: str = "", replayed_as: str = "") -> Response:
    letters = [views.dead_letter(seq, letter) for seq, letter in await list_letters(page.deps.bus, limit=200)]
    if letters:
        rows = [
            render(
                '<tr data-id="{id}"><td class="mono">{id}</td><td>{at}</td><td>{stage}</td><td><code>{subject}</code></td>'
                '<td>{dep}</td><td>{n}</td><td class="reason-cell">{reason}</td><td>{replay}</td></tr>',
                id=doc["id"],
                at=when(doc["failed_at"]),
                stage=doc["stage"],
                subject=doc["subject"],
                dep=deployment_link(doc["deployment_id"]) if doc["deployment_id"] else DASH,
                n=doc["num_delivered"],
                reason=doc["reason"],
                replay=button_form(page, f"/dlq/{doc['id']}/replay", "Replay"),
            )
            for doc in letters
        ]
        table = render(
            '<table class="grid dlq"><thead><tr><th>Id</th><th>Failed</th><th>Stage</th><th>Subject</th><th>Deployment</th>'
            "<th>Tries</th><th>Reason</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
            rows=rows,
        )
    else:
        table = render(
            '<p class="empty">No dead letters: everything that failed was retried successfully or never failed.</p>'
        )
    done = replayed.isdigit() and replayed_as.isdigit()
    flash = f"Dead letter {int(replayed)} replayed as message {int(replayed_as)}." if done else ""
    return page_html(page, "Dead letters", section("Dead letters", table), flash=flash)


@router.post("/dlq/{letter_id}/replay")
async def replay_one(letter_id: int, submitted: MemberForm) -> Response:
    page, _ = submitted
    if not 1 <= letter_id <= MAX_ID:
        raise NotFound(f"no dead letter {letter_id}: the list shows the ids")
    seq = await replay(page.deps.bus, letter_id)
    return RedirectResponse(f"/dlq?replayed={letter_id}&replayed_as={seq}", status_code=303)
