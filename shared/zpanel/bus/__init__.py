"""The bus wrapper: the only code that talks to NATS. See docs/architecture.md."""

from zpanel.bus.client import Bus
from zpanel.bus.consumer import Consumer, Delivery, Handler, PerServer
from zpanel.bus.dlq import AdvisoryMover, list_letters, replay
from zpanel.bus.locks import KeyLock

__all__ = ["AdvisoryMover", "Bus", "Consumer", "Delivery", "Handler", "KeyLock", "PerServer", "list_letters", "replay"]
