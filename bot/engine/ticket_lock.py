"""Rasa's Redis lock store, whose tickets do not expire while they wait (engine, Python 3.10).

Rasa serialises each conversation's messages with a ticket lock kept in Redis: a message takes a
ticket that expires ``TICKET_LOCK_LIFETIME`` seconds after it was issued, and is served once
every ticket before it is done or has expired. A ticket that waits as long as its lifetime
expires while waiting and is then never served: the message hangs until its client gives up.

That is what happens when an engine dies with a message in hand: the gateway sends the same
message to another engine, whose ticket comes a moment after the dead engine's, so the two
would expire together. Here a ticket's lifetime does not run while it waits (each check adds
the time waited to it), so the message is served once the dead engine's ticket expires; and a
lock that vanished meanwhile (Redis restarted) is made again with the waiting ticket in it.

``endpoints.scale.yml`` names it as the lock store (``type:
bot.engine.ticket_lock.WaitingRedisLockStore``), with the settings of Rasa's ``redis`` type.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Text

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class WaitingRedisLockStore(RedisLockStore):  # type: ignore[misc]
    """Rasa's :class:`RedisLockStore` (same keys, same settings), with waiting tickets kept."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    async def _acquire_lock(
        self, conversation_id: Text, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """The lock, once ``ticket`` is the first one left; until then the ticket waits, its
        expiry moved on by the time waited."""
        checked = time.monotonic()
        while True:
            lock = self.get_lock(conversation_id)
            if lock is not None and not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            now = time.monotonic()
            self._keep(conversation_id, ticket, now - checked)
            checked = now

    def _keep(self, conversation_id: Text, number: int, waited: float) -> None:
        """Move ``number``'s expiry on by ``waited`` seconds and drop the expired tickets; put
        the ticket back, with a whole lifetime, if the lock or the ticket is gone."""
        lock = self.get_lock(conversation_id) or self.create_lock(conversation_id)
        for ticket in lock.tickets:
            if ticket.number == number:
                ticket.expires += waited
        lock.remove_expired_tickets()
        if all(ticket.number != number for ticket in lock.tickets):
            lock.tickets.append(Ticket(number, time.time() + LOCK_LIFETIME))
            lock.tickets = deque(sorted(lock.tickets, key=lambda ticket: ticket.number))
        self.save_lock(lock)
