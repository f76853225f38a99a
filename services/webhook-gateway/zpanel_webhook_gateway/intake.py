"""Triggers that arrive as events become deployments: pushes (from webhooks or other systems),
pull requests (previews) and schedule firings. Deployment ids derive from the trigger's id, so a
redelivered trigger finds the deployment it already made.

Admission of provider webhooks happens here too: the webhook route only verifies, matches and
publishes, naming in the ``Zpanel-Apps`` header the applications whose own secret verified and
that the event deploys; exactly those are requested here, under the ids its 202 answered. An
event of a provider without that header was published by a gateway that admitted it itself
(before admission moved here): nothing to do.
"""

from __future__ import annotations

import structlog

from zpanel import subjects
from zpanel.bus import Bus, Delivery
from zpanel.bus.codec import MSG_ID
from zpanel.errors import NotFound
from zpanel.events import Event, PullRequestReceived, PushReceived, ScheduleFired
from zpanel_webhook_gateway.api.catalog import AppCatalog
from zpanel_webhook_gateway.conductor import Conductor, deployment_id_for
from zpanel_webhook_gateway.matching import match

log = structlog.get_logger("zpanel.intake")
APPS_HEADER = "Zpanel-Apps"
"""Comma-separated ids of the applications a provider webhook deploys (set by the webhook route)."""


class Intake:
    def __init__(self, bus: Bus, conductor: Conductor, catalog: AppCatalog | None = None) -> None:
        self.bus = bus
        self.conductor = conductor
        self.state = conductor.state
        self.catalog = catalog or AppCatalog(bus, conductor.state)

    async def on_push(self, event: Event, delivery: Delivery) -> None:
        if isinstance(event, PullRequestReceived) and event.action == "closed":
            for app in match(event, await self.state.apps.all()):
                await self.conductor.tear_down_preview(app, event.number)
            return
        if isinstance(event, PushReceived | PullRequestReceived) and event.provider != "external":
            # only the apps the route verified: re-matching here would deploy apps that share
            # the repository but not the secret
            await self.admit_webhook(event, delivery)
            return
        if isinstance(event, PullRequestReceived):
            await self.on_pull_request(event, delivery)
            return
        if not isinstance(event, PushReceived):
            return
        key = delivery.headers.get(MSG_ID) or event.event_id
        apps = match(event, await self.state.apps.all())
        for app in apps:
            dep = await self.conductor.request(
                app, "external", commit=event.commit, deployment_id=deployment_id_for(key, app.id)
            )
            log.info("intake.requested", deployment_id=dep.id, app_id=app.id, commit=event.commit)
        if not apps:
            log.info("intake.no_match", repo=event.repo_url, branch=event.branch)

    async def admit_webhook(self, event: PushReceived | PullRequestReceived, delivery: Delivery) -> None:
        names = delivery.headers.get(APPS_HEADER)
        if not names:
            return
        key = delivery.headers.get(MSG_ID) or event.event_id
        async with self.conductor.priority.admission():  # yields to webhooks being answered
            for app_id in names.split(","):
                dep_id = deployment_id_for(key, app_id)
                app = await self.catalog.get(app_id)
                if app is None:
                    log.warning("intake.app_gone", app_id=app_id, deployment_id=dep_id)
                elif isinstance(event, PullRequestReceived):
                    await self.conductor.request(
                        app, "preview", commit=event.commit, preview=event.number, deployment_id=dep_id
                    )
                else:
                    await self.conductor.request(app, "push", commit=event.commit, deployment_id=dep_id)
                self.conductor.inflight.discard(dep_id)

    async def on_pull_request(self, event: PullRequestReceived, delivery: Delivery) -> None:
        key = delivery.headers.get(MSG_ID) or event.event_id
        for app in match(event, await self.state.apps.all()):
            await self.conductor.request(
                app, "preview", commit=event.commit, preview=event.number, deployment_id=deployment_id_for(key, app.id)
            )

    async def on_schedule(self, event: Event, delivery: Delivery) -> None:
        if not isinstance(event, ScheduleFired):
            return
        tick = delivery.headers.get("Nats-Schedule-Next") or str(delivery.stream_seq)
        try:
            app = await self.state.apps.get(event.app_id)
        except NotFound:
            log.warning("intake.schedule_for_unknown_app", app_id=event.app_id)
            return
        await self.conductor.request(app, "schedule", deployment_id=deployment_id_for(f"schedule:{tick}", app.id))

    async def start(self) -> None:
        await self.bus.consume(
            stage="intake",
            subjects=[subjects.PUSH_RECEIVED, subjects.PULL_REQUEST_RECEIVED],
            stream="PUSH",
            handler=self.on_push,
            concurrency=8,
        )
        await self.bus.consume(
            stage="scheduler",
            subjects=[subjects.schedule_fired("*")],
            stream="SCHEDULES",
            handler=self.on_schedule,
            concurrency=2,
        )
