"""In-process fan-out of bot messages that arrive later (agent replies, notices) to open pages."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from bot.conversation.channel import BotMessage

#: Messages kept for a slow subscriber before the oldest are dropped (it can reload history).
QUEUE_SIZE = 100


class PushHub:
    """Subscribers per conversation key (``"webchat:<sender>"``)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[BotMessage]]] = defaultdict(set)

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
        """Deliver to every open subscriber of ``key``; return how many got it."""
        delivered = 0
        for queue in self._subscribers.get(key, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)
            delivered += 1
        return delivered
