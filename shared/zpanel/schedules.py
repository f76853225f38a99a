"""Application cron schedules as NATS message schedules: the server fires them, no scheduler of ours.

A schedule is one message on ``schedules.app.<app_id>`` (the stream keeps one per subject) with
``Nats-Schedule`` and ``Nats-Schedule-Target``; on each tick the server publishes its payload to
``schedule.fired.<app_id>``, which the gateway's intake turns into a deployment.
"""

from __future__ import annotations

from zpanel import subjects
from zpanel.bus import Bus
from zpanel.errors import PermanentError
from zpanel.events import ScheduleFired


def to_nats_schedule(cron: str) -> str:
    """Users write 5-field cron (or ``@every 10m``); the server wants 6 fields with seconds."""
    cron = cron.strip()
    if cron.startswith("@"):
        return cron
    fields = cron.split()
    if len(fields) == 5:
        from croniter import croniter  # only here, to check what a user wrote

        if not croniter.is_valid(cron):
            raise PermanentError(f"schedule {cron!r} is not a valid cron expression (minute hour day month weekday)")
        return "0 " + cron
    if len(fields) == 6:
        return cron
    raise PermanentError(
        f"schedule {cron!r} must have 5 cron fields (minute hour day month weekday) or be @every DURATION"
    )


async def set_schedule(bus: Bus, app_id: str, cron: str) -> None:
    event = ScheduleFired(app_id=app_id)
    headers = {
        "Nats-Schedule": to_nats_schedule(cron),
        "Nats-Schedule-Target": subjects.schedule_fired(app_id),
    }
    await bus.publish(event, subjects.schedule(app_id), headers=headers)


async def remove_schedule(bus: Bus, app_id: str) -> None:
    await bus.js.purge_stream("SCHEDULES", subject=subjects.schedule(app_id))
