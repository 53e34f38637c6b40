"""Events and their places on both databases: capacity holds under concurrent sign-ups from
several gateways, a freed place goes to the first citizen waiting, a reminder is claimed once."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.community.events import Place
from bot.community.store import Change, EventStore, SignUp
from bot.conversation.store import ConversationStore
from bot.storage.tables import EventRegistration
from bot.storage.time import utcnow
from tests.bot.community.conftest import draft


async def citizens(
    conversations: ConversationStore, count: int, channel: str = "webchat"
) -> list[int]:
    return [await conversations.open_conversation(channel, f"ciudadano-{i}") for i in range(count)]


def who(i: int) -> tuple[str, str, str | None]:
    return (f"Persona {chr(65 + i % 26)}", f"9{i:08d}", None)


async def stored(engine: AsyncEngine, event_id: int, status: Place) -> int:
    async with engine.connect() as db:
        query = select(func.count()).where(
            EventRegistration.event_id == event_id, EventRegistration.status == status
        )
        return int((await db.execute(query)).scalar_one())


async def test_twenty_concurrent_sign_ups_from_four_gateways_take_exactly_five_places(
    events: EventStore,
    gateways: list[EventStore],
    conversations: ConversationStore,
    engine: AsyncEngine,
) -> None:
    # Three events at once, twenty citizens each: a lost race shows more often than with one.
    talks = [await events.create(draft(capacity=5), None, utcnow()) for _ in range(3)]
    ids = await citizens(conversations, 20)
    outcomes = await asyncio.gather(*(
        gateways[i % 4].sign_up(talk.id, cid, who(i), utcnow())
        for talk in talks for i, cid in enumerate(ids)
    ))  # fmt: skip
    for n, talk in enumerate(talks):
        results = [o for o, _, _ in outcomes[n * 20 : (n + 1) * 20]]
        assert results.count(SignUp.REGISTERED) == 5
        assert results.count(SignUp.FULL) == 15
        assert await stored(engine, talk.id, Place.REGISTERED) == 5
        assert await stored(engine, talk.id, Place.WAITING) == 0  # full: nothing stored
        counted = await events.event(talk.id)
        assert counted is not None and (counted.registered, counted.free) == (5, 0)


async def test_concurrent_sign_ups_to_the_waiting_list_fill_the_places_first(
    events: EventStore, gateways: list[EventStore], conversations: ConversationStore
) -> None:
    event = await events.create(draft(capacity=2), None, utcnow())
    ids = await citizens(conversations, 10)
    outcomes = await asyncio.gather(*(
        gateways[i % 4].sign_up(event.id, cid, who(i), utcnow(), waiting_list=True)
        for i, cid in enumerate(ids)
    ))  # fmt: skip
    results = [o for o, _, _ in outcomes]
    assert results.count(SignUp.REGISTERED) == 2 and results.count(SignUp.WAITING) == 8
    counted = await events.event(event.id)
    assert counted is not None and (counted.registered, counted.waiting) == (2, 8)


async def test_a_place_given_up_goes_to_the_first_citizen_waiting(
    events: EventStore, conversations: ConversationStore
) -> None:
    event = await events.create(draft(capacity=1), None, utcnow())
    first, second, third = await citizens(conversations, 3)
    assert (await events.sign_up(event.id, first, who(0), utcnow()))[0] == SignUp.REGISTERED
    assert (await events.sign_up(event.id, second, who(1), utcnow()))[0] == SignUp.FULL
    for cid, i in ((second, 1), (third, 2)):
        outcome, _, place = await events.sign_up(event.id, cid, who(i), utcnow(), True)
        assert outcome == SignUp.WAITING and place is not None
    waiting = await events.place_of(event.id, third)
    assert waiting is not None and await events.waiting_position(waiting) == 2

    change, _, promoted = await events.give_up(event.id, first, utcnow())
    assert change == Change.DONE
    assert [(p.conversation_id, p.status, p.channel, p.sender_id) for p in promoted] == [
        (second, Place.REGISTERED, "webchat", "ciudadano-1")
    ]
    assert await events.waiting_position(waiting) == 1
    # The first citizen's place was given away: signing up again finds the event full.
    assert (await events.sign_up(event.id, first, who(0), utcnow()))[0] == SignUp.FULL
    # Giving up the wait frees no place: nobody is promoted.
    change, _, promoted = await events.give_up(event.id, third, utcnow())
    assert (change, promoted) == (Change.DONE, [])
    assert (await events.give_up(event.id, third, utcnow()))[0] == Change.NO_PLACE
    # Signing up again after giving up re-uses the citizen's row.
    outcome, _, place = await events.sign_up(event.id, third, who(2), utcnow(), True)
    assert outcome == SignUp.WAITING and place is not None and place.id == waiting.id


async def test_concurrent_give_ups_promote_exactly_as_many_as_they_free(
    events: EventStore,
    gateways: list[EventStore],
    conversations: ConversationStore,
    engine: AsyncEngine,
) -> None:
    event = await events.create(draft(capacity=3), None, utcnow())
    ids = await citizens(conversations, 8)
    for i, cid in enumerate(ids):
        await events.sign_up(event.id, cid, who(i), utcnow(), waiting_list=True)
    results = await asyncio.gather(*(
        gateways[i].give_up(event.id, cid, utcnow()) for i, cid in enumerate(ids[:3])
    ))  # fmt: skip
    promoted = [p.conversation_id for _, _, found in results for p in found]
    assert sorted(promoted) == ids[3:6]  # the first three who waited, once each
    assert await stored(engine, event.id, Place.REGISTERED) == 3
    assert await stored(engine, event.id, Place.WAITING) == 2


async def test_one_conversation_signing_up_twice_at_once_has_one_place(
    events: EventStore, gateways: list[EventStore], conversations: ConversationStore
) -> None:
    event = await events.create(draft(), None, utcnow())
    [cid] = await citizens(conversations, 1)
    outcomes = await asyncio.gather(
        *(gateways[i].sign_up(event.id, cid, who(0), utcnow()) for i in range(4))
    )
    results = sorted(o for o, _, _ in outcomes)
    assert results.count(SignUp.REGISTERED) == 1
    assert results.count(SignUp.ALREADY) == 3
    again, _, place = await events.sign_up(event.id, cid, who(0), utcnow())
    assert again == SignUp.ALREADY and place is not None and place.status == Place.REGISTERED


async def test_closed_cancelled_started_and_unknown_events_take_nobody(
    events: EventStore, conversations: ConversationStore, engine: AsyncEngine
) -> None:
    [cid] = await citizens(conversations, 1)
    now = utcnow()
    closed = await events.create(
        draft(registration_deadline=now - dt.timedelta(minutes=1)), None, now
    )
    started = await events.create(
        draft(
            starts_at=now - dt.timedelta(minutes=5),
            registration_deadline=now - dt.timedelta(hours=1),
        ),
        None,
        now,
    )
    cancelled = await events.create(draft(), None, now)
    assert (await events.cancel(cancelled.id, now))[0] == Change.DONE
    assert (await events.sign_up(closed.id, cid, who(0), now))[0] == SignUp.CLOSED
    assert (await events.sign_up(started.id, cid, who(0), now))[0] == SignUp.CLOSED
    assert (await events.sign_up(cancelled.id, cid, who(0), now, True))[0] == SignUp.CANCELLED
    assert (await events.sign_up(2**31 - 1, cid, who(0), now))[0] == SignUp.UNKNOWN
    for event in (closed, started, cancelled):
        assert await stored(engine, event.id, Place.REGISTERED) == 0
        assert await stored(engine, event.id, Place.WAITING) == 0
    # What admins may no longer do to them.
    assert (await events.cancel(cancelled.id, now))[0] == Change.CANCELLED
    assert (await events.cancel(started.id, now))[0] == Change.STARTED
    assert (await events.update(started.id, draft(), now))[0] == Change.STARTED
    assert (await events.update(2**31 - 1, draft(), now))[0] == Change.UNKNOWN


async def test_capacity_cannot_drop_below_the_places_taken_and_a_larger_one_promotes(
    events: EventStore, conversations: ConversationStore
) -> None:
    event = await events.create(draft(capacity=2), None, utcnow())
    ids = await citizens(conversations, 5)
    for i, cid in enumerate(ids):
        await events.sign_up(event.id, cid, who(i), utcnow(), waiting_list=True)

    change, _, _ = await events.update(event.id, draft(capacity=1), utcnow())
    assert change == Change.BELOW_TAKEN
    unchanged = await events.event(event.id)
    assert unchanged is not None and unchanged.capacity == 2

    change, changed, promoted = await events.update(
        event.id, draft(capacity=4, title="Charla ampliada"), utcnow()
    )
    assert change == Change.DONE and changed is not None
    assert (changed.title, changed.capacity, changed.registered, changed.waiting) == (
        "Charla ampliada", 4, 4, 1,
    )  # fmt: skip
    assert [p.conversation_id for p in promoted] == ids[2:4]


async def test_a_reminder_is_claimed_once_and_due_only_within_the_window(
    events: EventStore, gateways: list[EventStore], conversations: ConversationStore
) -> None:
    now = utcnow()
    soon = await events.create(
        draft(
            starts_at=now + dt.timedelta(hours=20),
            registration_deadline=now + dt.timedelta(hours=19),
        ),
        None,
        now,
    )
    later = await events.create(draft(), None, now)  # in three days
    a, b, c = await citizens(conversations, 3)
    await events.sign_up(soon.id, a, who(0), now)
    await events.sign_up(later.id, b, who(1), now)
    await events.sign_up(soon.id, c, who(2), now)
    await events.give_up(soon.id, c, now)  # gave up: no reminder

    due = await events.due_reminders(now, dt.timedelta(hours=24))
    assert [(e.id, p.conversation_id) for e, p in due] == [(soon.id, a)]
    [(_, place)] = due
    claims = await asyncio.gather(*(g.claim_reminder(place.id, now) for g in gateways * 3))
    assert claims.count(True) == 1
    assert await events.due_reminders(now, dt.timedelta(hours=24)) == []
    # Moving the event to another date reminds again.
    moved = now + dt.timedelta(hours=22)
    await events.update(soon.id, draft(starts_at=moved, registration_deadline=moved), now)
    assert [
        p.conversation_id for _, p in await events.due_reminders(now, dt.timedelta(hours=24))
    ] == [a]
