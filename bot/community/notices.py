"""What citizens are told about their place outside a request of theirs: a place freed for
them, an event changed or cancelled, the reminder. Sent through the gateway's outreach
(``bot/conversation/outreach.py``): the web chat's page, or the platform's outbox within its
24-hour window (WhatsApp's approved template outside it), like any message sent later."""

from __future__ import annotations

import logging

from bot.community import wording
from bot.community.events import Event, Place, Registration
from bot.conversation.services import Outreach
from bot.storage.time import utcnow

logger = logging.getLogger(__name__)


class EventNotices:
    def __init__(self) -> None:
        self._outreach: Outreach | None = None

    def connect(self, outreach: Outreach) -> None:
        """The way out to citizens (built after the conversation service)."""
        self._outreach = outreach

    async def promoted(self, event: Event, places: list[Registration]) -> None:
        """Citizens who waited and now have a place."""
        for place in places:
            text = wording.PROMOTED.format(nombre=place.name, **wording.fields(event, utcnow()))
            await self._send(place, text, event, "promoted")

    async def cancelled(self, event: Event, places: list[Registration]) -> None:
        for place in places:
            text = wording.EVENT_CANCELLED.format(**wording.fields(event, utcnow()))
            await self._send(place, text, None, "cancelled")

    async def changed(self, event: Event, places: list[Registration]) -> None:
        for place in places:
            text = wording.EVENT_CHANGED.format(**wording.fields(event, utcnow()))
            await self._send(place, text, event, "changed", waiting=place.status == Place.WAITING)

    async def reminder(self, event: Event, place: Registration) -> bool:
        """The day-before reminder; False when the channel is off (recorded as failed)."""
        text = wording.REMINDER.format(**wording.fields(event, utcnow()))
        return await self._send(place, text, event, "reminder")

    async def _send(
        self,
        place: Registration,
        text: str,
        event: Event | None,
        what: str,
        waiting: bool = False,
    ) -> bool:
        message: dict[str, object] = {"text": text}
        if event is not None:
            message["buttons"] = [wording.cancel_button(event, waiting)]
        if self._outreach is None:
            logger.warning("event notice not sent (no outreach): %s", what)
            return False
        sent = await self._outreach.send(
            place.conversation_id, place.channel, place.sender_id, [message]
        )
        logger.info(
            "event notice %s: event=%s registration=%s channel=%s sent=%s",
            what, place.event_id, place.id, place.channel, sent,
        )  # fmt: skip
        return sent
