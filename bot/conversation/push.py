"""Fan-out of bot messages that arrive later (agent replies, notices) to open pages, across
gateways.

A page's stream is held by one gateway; the message may be produced on any. :meth:`PushHub.publish`
serves this process's streams at once and sends the message on the bus (``bot/storage/bus.py``,
topic ``push``) for the streams other gateways hold. Delivery is at most once: when the bus had a
gap, every open stream here gets :data:`RESYNC` and ends, so the page reconnects and its history
(``/webchat/history``, stored before anything is pushed) has what was missed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from bot.conversation.channel import BotMessage
from bot.storage.bus import Bus, LocalBus

#: Messages kept for a slow subscriber before the oldest are dropped (it can reload history).
QUEUE_SIZE = 100
TOPIC = "push"
#: Put in a stream's queue after a gap of the bus: the stream ends (the page reloads).
RESYNC: BotMessage = {"resync": True}


class PushHub:
    """Subscribers per conversation key (``"webchat:<sender>"``), in this process; messages for
    the keys other gateways hold go through ``bus`` (alone in this process by default)."""

    def __init__(self, bus: Bus | None = None) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[BotMessage]]] = defaultdict(set)
        self.bus = bus or LocalBus()
        self.bus.subscribe(TOPIC, self._from_bus)
        self.bus.when_gap(self._after_gap)

    def subscribe(self, key: str) -> asyncio.Queue[BotMessage]:
        queue: asyncio.Queue[BotMessage] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[key].add(queue)
        return queue

    def unsubscribe(self, key: str, queue: asyncio.Queue[BotMessage]) -> None:
        subscribers = self._subscribers.get(key)
        if subscribers is None:
            return
        subscribers.discard(queue)
        if not subscribers:
            del self._subscribers[key]

    def publish(self, key: str, message: BotMessage) -> int:
        """Deliver to every open subscriber of ``key``: here at once, elsewhere through the
        bus. How many subscribers in this process got it."""
        self.bus.publish(TOPIC, {"key": key, "message": message})
        return self._deliver(key, message)

    def _deliver(self, key: str, message: BotMessage) -> int:
        delivered = 0
        for queue in self._subscribers.get(key, ()):
            _put(queue, message)
            delivered += 1
        return delivered

    def _from_bus(self, body: dict[str, Any]) -> None:
        key, message = body.get("key"), body.get("message")
        if isinstance(key, str) and isinstance(message, dict):
            self._deliver(key, message)

    def _after_gap(self) -> None:
        for queues in self._subscribers.values():
            for queue in queues:
                _put(queue, RESYNC)


def _put(queue: asyncio.Queue[BotMessage], message: BotMessage) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)
