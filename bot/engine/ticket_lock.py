"""Rasa's Redis lock store, changed atomically and with tickets that do not expire while they
wait (engine, Python 3.10).

Rasa serialises each conversation's messages with a ticket lock kept in Redis: a message takes a
ticket that expires ``TICKET_LOCK_LIFETIME`` seconds after it was issued, and is served once
every ticket before it is done or has expired. Three faults of Rasa's own Redis store, with
several engines, are mended here:

- A ticket that waits as long as its lifetime expires while waiting and is then never served:
  the message hangs until its client gives up. That is what happens when an engine dies with a
  message in hand: the gateway sends the same message to another engine, whose ticket comes a
  moment after the dead engine's, so both would expire together. Here a ticket's lifetime does
  not run while it waits (each check adds the time waited to it), so the message is served
  once the dead engine's ticket expires; a ticket (or lock) lost meanwhile, Redis having
  restarted, is put back.
- Rasa reads the lock, changes it in Python and writes it back: two engines taking a ticket for
  the same conversation at once can both write, one ticket is lost, and both messages are
  handled together. Here each change is one Lua script, atomic in Redis, and a message costs
  three round trips to Redis instead of seven.
- While Redis restarts, a message failed at once; here its lock is tried again for about five
  seconds (a lock lost with Redis's memory is made again with the tickets still waiting).

The lock keeps Rasa's format (the same keys and JSON), so both stores can share a Redis while
engines are replaced one by one. ``endpoints.scale.yml`` names it as the lock store (``type:
bot.engine.ticket_lock.WaitingRedisLockStore``) with the settings of Rasa's ``redis`` type.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Optional, Text

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

#: While Redis cannot be reached (a restart), a change is tried again after 0.05 s, 0.1 s, …
#: (1 s at most between tries), this many times: about 5 s in all.
RECONNECT_TRIES = 9

#: KEYS[1]: the conversation's lock. ARGV: the change ("take": a new ticket of lifetime
#: ARGV[4]; "keep": ticket ARGV[4] waited ARGV[5] seconds more, put back with lifetime ARGV[6]
#: if gone; "leave": ticket ARGV[4] is done), the conversation, the time now (seconds).
#: Expired tickets are dropped every time; the lock is deleted when none is left. Returns the
#: lock as stored (Rasa's JSON), or nil when deleted.
SCRIPT = """
local change, conversation, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local tickets, kept = {}, {}
local stored = redis.call('GET', KEYS[1])
if stored then
  for _, text in ipairs(cjson.decode(stored).tickets or {}) do
    tickets[#tickets + 1] = cjson.decode(text)
  end
end
local number = tonumber(ARGV[4])  -- the ticket ("keep", "leave") or the lifetime ("take")
for _, ticket in ipairs(tickets) do
  if change == 'keep' and ticket.number == number then
    ticket.expires = ticket.expires + tonumber(ARGV[5])
  end
  if ticket.expires >= now and not (change == 'leave' and ticket.number == number) then
    kept[#kept + 1] = ticket
  end
end
if change == 'take' then
  local last = -1
  if #kept > 0 then last = kept[#kept].number end
  kept[#kept + 1] = {number = last + 1, expires = now + number}
elseif change == 'keep' then
  local present = false
  for _, ticket in ipairs(kept) do present = present or ticket.number == number end
  if not present then
    kept[#kept + 1] = {number = number, expires = now + tonumber(ARGV[6])}
    table.sort(kept, function(a, b) return a.number < b.number end)
  end
end
if #kept == 0 then
  redis.call('DEL', KEYS[1])
  return nil
end
local texts = {}
for i, ticket in ipairs(kept) do
  texts[i] = cjson.encode({number = ticket.number, expires = ticket.expires})
end
local lock = cjson.encode({conversation_id = conversation, tickets = texts})
redis.call('SET', KEYS[1], lock)
return lock
"""


class WaitingRedisLockStore(RedisLockStore):  # type: ignore[misc]
    """Rasa's :class:`RedisLockStore` (same keys, format and settings), changed atomically,
    whose waiting tickets are kept (module docstring)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self._change = self.red.register_script(SCRIPT)

    def _run(self, change: str, conversation_id: Text, *values: float) -> Optional[TicketLock]:
        """Apply ``change`` to the conversation's lock in Redis; the lock after it. While
        Redis cannot be reached it is tried again (:data:`RECONNECT_TRIES`), blocking this
        engine as Rasa's own Redis calls do."""
        key = self.key_prefix + conversation_id
        for attempt in range(RECONNECT_TRIES + 1):
            try:
                stored: Any = self._change(
                    keys=[key],
                    args=[change, conversation_id, repr(time.time()), *map(repr, values)],
                )
                break
            except (redis.ConnectionError, redis.TimeoutError):
                if attempt == RECONNECT_TRIES:
                    raise
                time.sleep(min(1.0, 0.05 * 2**attempt))
        if stored is None:
            return None
        return TicketLock.from_dict(json.loads(stored))

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket of ``lock_lifetime`` seconds, after the unexpired ones; its number."""
        lock = self._run("take", conversation_id, lock_lifetime)
        assert lock is not None  # it holds the new ticket at least
        return int(lock.last_issued)

    async def _acquire_lock(
        self, conversation_id: Text, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """The lock, once ``ticket`` is the first one left; until then the ticket waits, its
        expiry moved on by the time waited."""
        checked = time.monotonic()
        waited = 0.0
        while True:
            lock = self._run("keep", conversation_id, ticket, waited, LOCK_LIFETIME)
            if lock is not None and not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            now = time.monotonic()
            waited, checked = now - checked, now

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """``ticket_number`` is done: drop it (and the lock once no ticket is left)."""
        self._run("leave", conversation_id, ticket_number)
