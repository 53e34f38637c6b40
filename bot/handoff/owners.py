"""Which conversations people own now (an open handoff), known by every gateway.

Asked for every citizen's message (:meth:`HandoffOwners.owns`), so it is answered from memory:
the open handoffs read from the database at start, kept in step by this gateway's changes and
the other gateways' news (``ConsoleHub.announce_owner``, through the bus). The bus delivers at
most once, so the copy is read again from the database after every gap of the bus (the news
that arrives during that read is applied on top), and every ``reload_seconds`` while the bus is
cut off. A conversation escalated elsewhere is known here before the citizen is answered there
(the escalating gateway waits for its news to be sent). A stale "owned" costs nothing wrong:
the desk checks the handoff in the database before taking a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.handoff.hub import ConsoleHub
from bot.handoff.store import HandoffStore

logger = logging.getLogger(__name__)

#: While news from other gateways cannot arrive (Redis down), owners are read this often.
RELOAD_SECONDS = 5.0
#: Longest wait at stop for a read of the open handoffs under way.
CLOSE_WAIT_SECONDS = 5.0


class HandoffOwners:
    def __init__(
        self, store: HandoffStore, hub: ConsoleHub, reload_seconds: float = RELOAD_SECONDS
    ) -> None:
        self._store = store
        self._hub = hub
        self._reload_seconds = reload_seconds
        #: Conversation → its open handoff.
        self._owned: dict[int, int] = {}
        self._reading = asyncio.Lock()
        self._meanwhile: list[tuple[int, int, bool]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._closed = False
        hub.when_owner_changes(self._apply)
        hub.when_gap(self._reload_soon)

    def __len__(self) -> int:
        return len(self._owned)

    def owns(self, conversation_id: int) -> bool:
        return conversation_id in self._owned

    def handoff_of(self, conversation_id: int) -> int | None:
        return self._owned.get(conversation_id)

    def changed(self, conversation_id: int, handoff_id: int, open_: bool) -> None:
        """This gateway opened or closed a handoff: in step here, news for the others."""
        self._apply(conversation_id, handoff_id, open_)
        self._hub.announce_owner(conversation_id, handoff_id, open_)

    def forget(self, conversation_id: int) -> None:
        """The database says no handoff of this conversation is open (found when asked)."""
        self._owned.pop(conversation_id, None)

    async def reload(self) -> None:
        """Read the open handoffs from the database (news that arrives meanwhile is kept)."""
        async with self._reading:
            self._meanwhile = []
            try:
                owned = {h.conversation_id: h.id for h in await self._store.open_handoffs()}
                for change in self._meanwhile:
                    _apply(owned, *change)
                self._owned = owned
            finally:
                self._meanwhile = None

    async def start(self) -> None:
        await self.reload()
        self._watcher = self._spawn(self._watch())

    async def close(self) -> None:
        """Stop. Reads under way finish first (a read cancelled half-way would leave its
        database connection to the garbage collector); the watcher is cancelled."""
        self._closed = True
        reads = [task for task in self._tasks if task is not self._watcher]
        if reads:
            await asyncio.wait(reads, timeout=CLOSE_WAIT_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _apply(self, conversation_id: int, handoff_id: int, open_: bool) -> None:
        if self._meanwhile is not None:  # a read is under way: applied on top of it too
            self._meanwhile.append((conversation_id, handoff_id, open_))
        _apply(self._owned, conversation_id, handoff_id, open_)

    def _reload_soon(self) -> None:
        if self._closed:  # the hub outlives a desk (an app started again, as tests do)
            return
        self._spawn(self._reload_logged())

    async def _reload_logged(self) -> None:
        try:
            await self.reload()
        except Exception as exc:  # the database may be down too: read again later
            logger.warning("handoff owners not read again: %s", exc)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._reload_seconds)
            if not self._hub.bus.connected:
                await self._reload_logged()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _apply(owned: dict[int, int], conversation_id: int, handoff_id: int, open_: bool) -> None:
    if open_:
        owned[conversation_id] = handoff_id
    elif owned.get(conversation_id) == handoff_id:  # a later handoff stays
        del owned[conversation_id]
