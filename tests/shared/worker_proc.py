"""A stage worker in its own process, for the kill -9 test.

It appends ``start <event_id> <delivery>`` to a journal when a message arrives, then on the first
delivery waits (so the test can kill it mid-message); on later deliveries it appends ``done`` and
returns (ack).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from zpanel.bus import Bus, Delivery
from zpanel.events import Event
from zpanel.settings import load


async def main(subject: str, journal: Path) -> None:
    bus = await Bus.connect(load(), name="worker-proc")

    async def handle(event: Event, delivery: Delivery) -> None:
        with journal.open("a") as f:
            f.write(f"start {event.event_id} {delivery.num_delivered}\n")
        if delivery.num_delivered == 1:
            await asyncio.sleep(3600)
        with journal.open("a") as f:
            f.write(f"done {event.event_id} {delivery.num_delivered}\n")

    await bus.consume(stage="killtest", subjects=[subject], handler=handle)
    with journal.open("a") as f:
        f.write("ready\n")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
