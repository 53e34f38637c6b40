"""The day-before reminder: a background job that, every ``every`` seconds, sends each citizen
with a place at an event starting within ``ahead`` (24 hours by default) a reminder on their
channel, once per place: each is claimed first by a conditional update, so with several
gateways only one sends it. A place freed and given to someone waiting, or an event moved to
another date, is reminded again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from bot.community.notices import EventNotices
from bot.community.store import EventStore
from bot.storage.time import utcnow

logger = logging.getLogger(__name__)


class EventReminders:
    def __init__(
        self,
        events: EventStore,
        notices: EventNotices,
        every: float,
        ahead: dt.timedelta,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._events = events
        self._notices = notices
        self._every = every
        self._ahead = ahead
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-reminders")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:  # the job keeps running; the next round tries again
                logger.exception("event reminders: round failed")
            await asyncio.sleep(self._every)

    async def send_due(self) -> int:
        """Send the reminders due now; how many this gateway sent."""
        now = self._clock()
        sent = 0
        for event, place in await self._events.due_reminders(now, self._ahead):
            if not await self._events.claim_reminder(place.id, now):
                continue  # another gateway has it
            await self._notices.reminder(event, place)
            sent += 1
        if sent:
            logger.info("event reminders: %d sent", sent)
        return sent
