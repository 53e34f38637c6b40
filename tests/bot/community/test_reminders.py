"""The day-before reminder: sent once per place on the citizen's channel, with several
gateways looking at once; not to those waiting or who gave up, not for cancelled events nor
events further away than the window; the job keeps running and stops cleanly."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.community.events import LIMA
from bot.community.notices import EventNotices
from bot.community.reminders import EventReminders
from bot.community.store import EventStore
from bot.conversation.channel import BotMessage
from bot.conversation.store import ConversationStore
from bot.storage.time import utcnow
from tests.bot.community.conftest import draft

DAY = dt.timedelta(hours=24)


class Outreach:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str, list[BotMessage]]] = []

    async def send(
        self, conversation_id: int, channel: str, sender_id: str, messages: list[BotMessage]
    ) -> bool:
        self.sent.append((conversation_id, channel, sender_id, messages))
        return True


def job(events: EventStore, outreach: Outreach, every: float = 60.0) -> EventReminders:
    notices = EventNotices()
    notices.connect(outreach)
    return EventReminders(events, notices, every, DAY)


async def test_each_place_is_reminded_once_even_with_several_gateways(
    events: EventStore, gateways: list[EventStore], conversations: ConversationStore
) -> None:
    now = utcnow()
    starts = (now + dt.timedelta(hours=20)).replace(microsecond=0)
    soon = await events.create(
        draft(starts_at=starts, registration_deadline=starts, capacity=2), None, now
    )
    later = await events.create(draft(), None, now)  # in three days: not yet
    cancelled = await events.create(
        draft(starts_at=starts, registration_deadline=starts), None, now
    )
    ids = [await conversations.open_conversation("whatsapp", f"5199900000{i}") for i in range(6)]
    await events.sign_up(soon.id, ids[0], ("Ana Quispe", "ana@example.pe", None), now)
    await events.sign_up(soon.id, ids[1], ("Beto Flores", "987654321", None), now)
    await events.sign_up(later.id, ids[2], ("Carla Díaz", "carla@example.pe", None), now)
    await events.sign_up(cancelled.id, ids[3], ("Dina Ruiz", "dina@example.pe", None), now)
    await events.cancel(cancelled.id, now)
    await events.give_up(soon.id, ids[1], now)  # gave up: not reminded
    await events.sign_up(soon.id, ids[4], ("Eva Soto", "eva@example.pe", None), now, True)
    waiting = await events.sign_up(
        soon.id, ids[5], ("Flor Paz", "flor@example.pe", None), now, True
    )
    assert waiting[0] == "en_espera"  # full: waits, not reminded

    outreach = Outreach()
    sent = await asyncio.gather(*(job(g, outreach).send_due() for g in gateways * 2))
    assert sum(sent) == 2
    assert sorted(cid for cid, _, _, _ in outreach.sent) == [ids[0], ids[4]]
    _, channel, sender, [message] = outreach.sent[0]
    assert (channel, sender[:8]) == ("whatsapp", "51999000")
    local = starts.astimezone(LIMA)
    assert "Recordatorio" in message["text"] and soon.title in message["text"]
    assert f"{local.day} de " in message["text"]  # the date in Lima time
    assert message["buttons"][0]["payload"] == f'/evento_cancelar{{"evento": {soon.id}}}'
    # Another round, later: nothing more.
    assert await job(events, outreach).send_due() == 0
    assert len(outreach.sent) == 2


async def test_the_job_runs_every_interval_until_closed(
    events: EventStore, conversations: ConversationStore
) -> None:
    now = utcnow()
    outreach = Outreach()
    reminders = job(events, outreach, every=0.05)
    await reminders.start()
    await asyncio.sleep(0.1)
    starts = now + dt.timedelta(hours=2)
    event = await events.create(draft(starts_at=starts, registration_deadline=starts), None, now)
    cid = await conversations.open_conversation("webchat", "ana")
    await events.sign_up(event.id, cid, ("Ana Quispe", "ana@example.pe", None), utcnow())
    for _ in range(100):
        if outreach.sent:
            break
        await asyncio.sleep(0.05)
    await reminders.close()
    assert [(c, ch) for c, ch, _, _ in outreach.sent] == [(cid, "webchat")]
