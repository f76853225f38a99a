"""The one catalogue of subjects, streams, consumers and KV buckets.

Server-bound stages carry the server id as the last subject token (``build.done.<server>``), and
each stage worker consumes them through one durable consumer *per server*, so a slow or
unreachable server only ever fills its own consumer's window.

Reading order: the event flow is

    push.received ─▶ (gateway intake) ─▶ deployment.requested.<server> ─▶ builder
    ─▶ build.done.<server> ─▶ deployer ─▶ deploy.done.<server> ─▶ health
    ─▶ health.passed.<server> ─▶ proxy-sync ─▶ proxy.updated.<server> ─▶ deployer (retire old)
    ─▶ deployment.succeeded.<server> ─▶ notifier

(a rolling update goes round deployer ─▶ health ─▶ proxy-sync once per replica; undoing one
after traffic reached a new replica goes deploy.reverting ─▶ proxy-sync ─▶ proxy.restored ─▶ deployer)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

# --- subjects -------------------------------------------------------------------------------

PUSH_RECEIVED = "push.received"
PULL_REQUEST_RECEIVED = "pull_request.received"
SCHEDULE_FIRED = "schedule.fired"  # .<app_id>


def schedule_fired(app_id: str) -> str:
    return f"{SCHEDULE_FIRED}.{app_id}"


def schedule(app_id: str) -> str:
    """Where an application's NATS message schedule lives (one per app: the subject is its key)."""
    return f"schedules.app.{app_id}"


def stage(event_type: str, server_id: str) -> str:
    """``build.done`` + ``s1`` → ``build.done.s1``: every server-bound stage event."""
    return f"{event_type}.{server_id}"


def cancel(deployment_id: str) -> str:
    """Core NATS (not stored): tells whoever runs this deployment's stage to stop now."""
    return f"control.cancel.{deployment_id}"


def logs(deployment_id: str) -> str:
    return f"logs.{deployment_id}"


def dlq(stage_name: str) -> str:
    return f"dlq.{stage_name}"


MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"


def server_token(subject: str) -> str:
    """The server id of a server-bound stage subject (its last token)."""
    return subject.rsplit(".", 1)[-1]


# --- streams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age: timedelta
    duplicate_window: timedelta = timedelta(minutes=2)
    retention: str = "limits"  # "limits" | "workqueue" | "interest"
    max_msgs_per_subject: int = -1
    allow_msg_schedules: bool = False
    description: str = ""


STAGE_EVENTS = (
    "deployment.requested",
    "build.started",
    "build.done",
    "build.failed",
    "deploy.started",
    "deploy.done",
    "deploy.failed",
    "deploy.reverting",
    "health.passed",
    "health.failed",
    "proxy.updated",
    "proxy.failed",
    "proxy.restored",
    "deployment.succeeded",
    "deployment.failed",
    "deployment.rolled_back",
    "deployment.cancelled",
    "deployment.superseded",
    "deployment.cancel_requested",
    "preview.torn_down",
    "server.unreachable",
)


@dataclass(frozen=True)
class Catalogue:
    """Stream names and ages; built from settings so tests can use short ages and own prefixes."""

    log_max_age: timedelta = timedelta(days=7)
    event_max_age: timedelta = timedelta(days=7)
    dlq_max_age: timedelta = timedelta(days=30)
    duplicate_window: timedelta = timedelta(minutes=2)
    streams: tuple[StreamSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        specs = (
            StreamSpec(
                "PUSH",
                (PUSH_RECEIVED, PULL_REQUEST_RECEIVED),
                self.event_max_age,
                self.duplicate_window,
                description="triggers from providers and other systems",
            ),
            StreamSpec(
                "PIPELINE",
                tuple(f"{e}.*" for e in STAGE_EVENTS),
                self.event_max_age,
                self.duplicate_window,
                description="every server-bound stage event; one consumer per stage and server",
            ),
            StreamSpec(
                "SCHEDULES",
                ("schedules.>", f"{SCHEDULE_FIRED}.*"),
                timedelta(0),
                self.duplicate_window,
                max_msgs_per_subject=1,
                allow_msg_schedules=True,
                description="application cron schedules (server-side message schedules) and their firings",
            ),
            StreamSpec("LOGS", ("logs.*",), self.log_max_age, self.duplicate_window, description="deployment logs"),
            StreamSpec("DLQ", ("dlq.>",), self.dlq_max_age, self.duplicate_window, description="dead letters"),
            StreamSpec(
                "ADVISORIES",
                (f"{MAX_DELIVERIES_ADVISORY}.>",),
                self.dlq_max_age,
                description="MAX_DELIVERIES advisories, kept so a crash loop still ends in the DLQ",
            ),
        )
        object.__setattr__(self, "streams", specs)

    def stream_for(self, subject: str) -> str:
        head = subject.split(".", 1)[0]
        return {
            "push": "PUSH",
            "pull_request": "PUSH",
            "schedules": "SCHEDULES",
            "schedule": "SCHEDULES",
            "logs": "LOGS",
            "dlq": "DLQ",
            "$JS": "ADVISORIES",
        }.get(head, "PIPELINE")


# --- KV buckets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketSpec:
    name: str
    ttl: timedelta = timedelta(0)
    history: int = 1
    description: str = ""


BUCKETS = (
    BucketSpec("applications", history=5, description="Application records, key = app id"),
    BucketSpec("app_names", description="name → app id (unique names)"),
    BucketSpec("servers", history=5, description="Server records, key = server name"),
    BucketSpec("deployments", history=10, description="Deployment records, key = deployment id"),
    BucketSpec("deployment_index", description="<app_id>.<deployment_id> → created_at, to list an app's"),
    BucketSpec("locks", description="per-key locks (CAS) and each app's active/pending deployment"),
    BucketSpec("tokens", description="sha256(token) → API token record"),
    BucketSpec("notifications", ttl=timedelta(days=2), description="notification delivery ids sent"),
)


# --- consumers ------------------------------------------------------------------------------


def consumer_name(stage_name: str, server_id: str | None = None) -> str:
    """Durable consumer names: ``deployer`` or ``deployer_s1`` (one per server)."""
    return stage_name if server_id is None else f"{stage_name}_{server_id}"


def stage_of_consumer(consumer: str) -> str:
    return consumer.split("_", 1)[0]
