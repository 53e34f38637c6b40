"""Where events and their places live: SQLAlchemy Core on the gateway's database (SQLite or
PostgreSQL).

Capacity holds under concurrent sign-ups on both databases: a place is taken by one
conditional statement (``INSERT … SELECT … WHERE <places taken> < capacity``), and on
PostgreSQL the event's row is locked first (``SELECT … FOR UPDATE``), so sign-ups to one event
take turns. On SQLite the conditional statement is the transaction's first write, and SQLite
runs one write transaction at a time. A freed place goes to the first citizen waiting, in the
same transaction; a reminder is claimed by one conditional update (``… WHERE reminded_at IS
NULL``), so several gateways send it once.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.community.events import Event, EventDraft, Place, Registration
from bot.storage.tables import CommunityEvent, Conversation, EventRegistration
from bot.storage.time import aware

_E, _R = CommunityEvent, EventRegistration
_MOMENT = DateTime(timezone=True)


class SignUp(StrEnum):
    """How a sign-up ended."""

    REGISTERED = "inscrito"
    WAITING = "en_espera"
    #: No place left (nothing stored: the citizen may join the waiting list).
    FULL = "lleno"
    #: This conversation has a place (or waits for one) already.
    ALREADY = "ya_inscrito"
    #: Registration closed (deadline passed, or the event started).
    CLOSED = "cerrado"
    #: The event was cancelled.
    CANCELLED = "cancelado"
    UNKNOWN = "desconocido"


class Change(StrEnum):
    """How an admin's change (or a citizen's giving up a place) ended."""

    DONE = "hecho"
    UNKNOWN = "desconocido"
    #: The event is cancelled already.
    CANCELLED = "cancelado"
    #: The event has started: it can no longer change.
    STARTED = "empezado"
    #: The new capacity is below the places taken.
    BELOW_TAKEN = "bajo_inscritos"
    #: The citizen had no place to give up.
    NO_PLACE = "sin_lugar"


def _taken(event_id: Any) -> Any:
    """The places taken at an event, as a subquery (over an alias of the table, so it is
    never correlated with an UPDATE of the registrations around it)."""
    taken = _R.__table__.alias("taken")
    return (
        select(func.count())
        .select_from(taken)
        .where(taken.c.event_id == event_id, taken.c.status == Place.REGISTERED)
        .scalar_subquery()
    )


def _counts() -> Any:
    return (
        select(
            _R.event_id,
            func.sum(case((_R.status == Place.REGISTERED, 1), else_=0)).label("registered"),
            func.sum(case((_R.status == Place.WAITING, 1), else_=0)).label("waiting"),
        )
        .group_by(_R.event_id)
        .subquery()
    )


def _event(r: Any) -> Event:
    """An event from a row's mapping (``registered`` and ``waiting`` when selected)."""
    return Event(
        r["id"], r["title"], r["kind"], aware(r["starts_at"]), aware(r["ends_at"]), r["place"],
        r["online_url"], r["capacity"], aware(r["registration_deadline"]), r["description"],
        aware(r["created_at"]), aware(r["cancelled_at"]),
        int(r.get("registered") or 0), int(r.get("waiting") or 0),
    )  # fmt: skip


def _registration(r: Any) -> Registration:
    return Registration(
        r["id"], r["event_id"], r["conversation_id"], r["channel"], r["sender_id"],
        Place(r["status"]), r["name"], r["contact"], r["document"], aware(r["created_at"]),
        aware(r["cancelled_at"]), aware(r["reminded_at"]),
    )  # fmt: skip


def _values(draft: EventDraft) -> dict[str, Any]:
    return {
        "title": draft.title.strip(),
        "kind": draft.kind,
        "starts_at": draft.starts_at,
        "ends_at": draft.ends_at,
        "place": (draft.place or "").strip() or None,
        "online_url": (draft.online_url or "").strip() or None,
        "capacity": draft.capacity,
        "registration_deadline": draft.registration_deadline,
        "description": draft.description.strip(),
    }


_EVENTS_COUNTED = _counts()
#: Events with their places taken and waiting.
_EVENTS = select(
    *_E.__table__.c, _EVENTS_COUNTED.c.registered, _EVENTS_COUNTED.c.waiting
).outerjoin(_EVENTS_COUNTED, _EVENTS_COUNTED.c.event_id == _E.id)
#: Places with the conversation (channel and sender) they were taken in.
_PLACES = select(*_R.__table__.c, Conversation.channel, Conversation.sender_id).join(
    Conversation, Conversation.id == _R.conversation_id
)


class EventStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # --- reading ------------------------------------------------------------------------------

    async def event(self, event_id: int) -> Event | None:
        async with self._engine.connect() as db:
            row = (await db.execute(_EVENTS.where(_E.id == event_id))).first()
        return _event(row._mapping) if row is not None else None

    async def events(self, now: dt.datetime, past: bool = False) -> list[Event]:
        """Events still to come (and, with ``past``, those over), soonest first."""
        query = _EVENTS.order_by(_E.starts_at, _E.id)
        if not past:
            query = query.where(_E.starts_at > now)
        async with self._engine.connect() as db:
            return [_event(r._mapping) for r in (await db.execute(query)).all()]

    async def open_events(self, now: dt.datetime, limit: int) -> list[Event]:
        """Events citizens may sign up for now, soonest first."""
        query = (
            _EVENTS.where(
                _E.cancelled_at.is_(None), _E.registration_deadline >= now, _E.starts_at > now
            )
            .order_by(_E.starts_at, _E.id)
            .limit(limit)
        )
        async with self._engine.connect() as db:
            return [_event(r._mapping) for r in (await db.execute(query)).all()]

    async def place_of(self, event_id: int, conversation_id: int) -> Registration | None:
        """The conversation's place at the event (a given-up one included), if any."""
        async with self._engine.connect() as db:
            return await self._place(db, event_id, conversation_id)

    async def registrations(self, event_id: int) -> list[Registration]:
        """Everyone who signed up: places first, then the waiting list, then those who gave
        up; each in the order they signed up."""
        order = case((_R.status == Place.REGISTERED, 0), (_R.status == Place.WAITING, 1), else_=2)
        query = _PLACES.where(_R.event_id == event_id).order_by(order, _R.created_at, _R.id)
        async with self._engine.connect() as db:
            return [_registration(r._mapping) for r in (await db.execute(query)).all()]

    async def waiting_position(self, registration: Registration) -> int:
        """Where a waiting citizen is in the list (1: next to get a place)."""
        query = (
            select(func.count())
            .select_from(_R)
            .where(
                _R.event_id == registration.event_id,
                _R.status == Place.WAITING,
                or_(
                    _R.created_at < registration.created_at,
                    and_(_R.created_at == registration.created_at, _R.id <= registration.id),
                ),
            )
        )
        async with self._engine.connect() as db:
            return int((await db.execute(query)).scalar_one())

    # --- admins -------------------------------------------------------------------------------

    async def create(self, draft: EventDraft, created_by: int | None, now: dt.datetime) -> Event:
        async with self._engine.begin() as db:
            result = await db.execute(
                insert(_E).values(**_values(draft), created_by=created_by, created_at=now)
            )
            event_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        found = await self.event(event_id)
        assert found is not None
        return found

    async def update(
        self, event_id: int, draft: EventDraft, now: dt.datetime
    ) -> tuple[Change, Event | None, list[Registration]]:
        """Change an event still to come; the citizens given a place freed by a larger
        capacity. A capacity below the places taken is refused (nothing changes)."""
        async with self._engine.begin() as db:
            event = await self._locked(db, event_id)
            if event is None or event.cancelled_at is not None or event.starts_at <= now:
                return _why_not(event), event, []
            fits = _taken(_E.id) <= draft.capacity
            result = await db.execute(
                update(_E)
                .where(_E.id == event_id, _E.cancelled_at.is_(None), fits)
                .values(**_values(draft))
            )
            if result.rowcount == 0:
                return Change.BELOW_TAKEN, await self.event(event_id), []
            if draft.starts_at != event.starts_at:  # reminded of the old date: remind again
                await db.execute(update(_R).where(_R.event_id == event_id).values(reminded_at=None))
            promoted = await self._promote(db, event_id)
        return Change.DONE, await self.event(event_id), promoted

    async def cancel(
        self, event_id: int, now: dt.datetime
    ) -> tuple[Change, Event | None, list[Registration]]:
        """Cancel an event still to come; the citizens who had a place or were waiting."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(_E)
                .where(_E.id == event_id, _E.cancelled_at.is_(None), _E.starts_at > now)
                .values(cancelled_at=now)
            )
            if result.rowcount == 0:
                row = (await db.execute(_EVENTS.where(_E.id == event_id))).first()
                event = _event(row._mapping) if row is not None else None
                return _why_not(event), event, []
            rows = await db.execute(
                _PLACES.where(
                    _R.event_id == event_id, _R.status.in_((Place.REGISTERED, Place.WAITING))
                )
            )
            told = [_registration(r._mapping) for r in rows.all()]
        return Change.DONE, await self.event(event_id), told

    # --- citizens -----------------------------------------------------------------------------

    async def sign_up(
        self,
        event_id: int,
        conversation_id: int,
        who: tuple[str, str, str | None],
        now: dt.datetime,
        waiting_list: bool = False,
    ) -> tuple[SignUp, Event | None, Registration | None]:
        """Take a place for ``who`` (name, contact, RUC or None) if one is left; else
        :attr:`SignUp.FULL` and nothing stored. With ``waiting_list``, a full event puts them
        on its waiting list instead."""
        try:
            async with self._engine.begin() as db:
                event = await self._locked(db, event_id)
                if event is None:
                    return SignUp.UNKNOWN, None, None
                if event.cancelled_at is not None:
                    return SignUp.CANCELLED, event, None
                if not event.open_at(now):
                    return SignUp.CLOSED, event, None
                mine = await self._place(db, event_id, conversation_id)
                if mine is not None and mine.status != Place.CANCELLED:
                    return SignUp.ALREADY, event, mine
                given_up = mine.id if mine is not None else None
                if not await self._take(db, event_id, conversation_id, who, now, waiting_list,
                                        given_up):  # fmt: skip
                    row = (await db.execute(_EVENTS.where(_E.id == event_id))).one()
                    event = _event(row._mapping)
                    if event.cancelled_at is not None:
                        return SignUp.CANCELLED, event, None
                    return (SignUp.FULL if event.open_at(now) else SignUp.CLOSED), event, None
                mine = await self._place(db, event_id, conversation_id)
        except IntegrityError:  # the same conversation signing up twice at once
            mine = await self.place_of(event_id, conversation_id)
            return SignUp.ALREADY, await self.event(event_id), mine
        assert mine is not None
        return SignUp(mine.status.value), await self.event(event_id), mine

    async def _take(
        self,
        db: AsyncConnection,
        event_id: int,
        conversation_id: int,
        who: tuple[str, str, str | None],
        now: dt.datetime,
        waiting_list: bool,
        given_up: int | None,
    ) -> bool:
        """The one conditional write that takes a place (or a place in the waiting list)."""
        name, contact, document = who
        room = _taken(_E.id) < _E.capacity
        conditions = [
            _E.id == event_id,
            _E.cancelled_at.is_(None),
            _E.registration_deadline >= now,
            _E.starts_at > now,
        ]
        if waiting_list:
            status: Any = case((room, literal(Place.REGISTERED.value, String)),
                               else_=literal(Place.WAITING.value, String))  # fmt: skip
        else:
            status = literal(Place.REGISTERED.value, String)
            conditions.append(room)
        if given_up is None:
            statement: Any = insert(_R).from_select(
                ["event_id", "conversation_id", "status", "name", "contact", "document",
                 "created_at"],
                select(
                    literal(event_id, Integer), literal(conversation_id, Integer), status,
                    literal(name, String), literal(contact, String),
                    literal(document, String), literal(now, _MOMENT),
                ).select_from(_E).where(*conditions),
            )  # fmt: skip
        else:  # a place given up earlier in this conversation is taken again
            statement = (
                update(_R)
                .where(
                    _R.id == given_up,
                    _R.status == Place.CANCELLED,
                    exists(select(_E.id).where(*conditions)),
                )
                .values(status=select(status).where(_E.id == event_id).scalar_subquery(),
                        name=name, contact=contact, document=document,
                        created_at=now, cancelled_at=None, reminded_at=None)
            )  # fmt: skip
        result = await db.execute(statement)
        return bool(result.rowcount)

    async def give_up(
        self, event_id: int, conversation_id: int, now: dt.datetime
    ) -> tuple[Change, Event | None, list[Registration]]:
        """The conversation gives up its place (or its wait) at an event still to come; the
        place goes to the first citizen waiting, returned."""
        async with self._engine.begin() as db:
            event = await self._locked(db, event_id)
            if event is None or event.cancelled_at is not None or event.starts_at <= now:
                return _why_not(event), event, []
            promoted: list[Registration] = []
            for status in (Place.REGISTERED, Place.WAITING):
                result = await db.execute(
                    update(_R)
                    .where(_R.event_id == event_id, _R.conversation_id == conversation_id,
                           _R.status == status)
                    .values(status=Place.CANCELLED, cancelled_at=now)
                )  # fmt: skip
                if result.rowcount:
                    if status == Place.REGISTERED:
                        promoted = await self._promote(db, event_id)
                    break
            else:
                return Change.NO_PLACE, event, []
        return Change.DONE, await self.event(event_id), promoted

    async def _promote(self, db: AsyncConnection, event_id: int) -> list[Registration]:
        """Places left go to the citizens waiting, first come first served."""
        promoted: list[int] = []
        capacity = select(_E.capacity).where(_E.id == event_id).scalar_subquery()
        while True:
            first = (
                await db.execute(
                    select(_R.id)
                    .where(_R.event_id == event_id, _R.status == Place.WAITING)
                    .order_by(_R.created_at, _R.id)
                    .limit(1)
                )
            ).scalar()
            if first is None:
                break
            result = await db.execute(
                update(_R)
                .where(_R.id == first, _R.status == Place.WAITING, _taken(event_id) < capacity)
                .values(status=Place.REGISTERED, reminded_at=None)
            )
            if not result.rowcount:
                break
            promoted.append(first)
        if not promoted:
            return []
        rows = await db.execute(_PLACES.where(_R.id.in_(promoted)))
        found = {p.id: p for p in (_registration(r._mapping) for r in rows.all())}
        return [found[i] for i in promoted]

    async def _locked(self, db: AsyncConnection, event_id: int) -> Event | None:
        """The event, its row locked until the transaction ends (PostgreSQL; SQLite takes
        turns on writes anyway and ignores the lock)."""
        query = select(*_E.__table__.c).where(_E.id == event_id).with_for_update()
        row = (await db.execute(query)).first()
        return _event(row._mapping) if row is not None else None

    @staticmethod
    async def _place(
        db: AsyncConnection, event_id: int, conversation_id: int
    ) -> Registration | None:
        query = _PLACES.where(_R.event_id == event_id, _R.conversation_id == conversation_id)
        row = (await db.execute(query)).first()
        return _registration(row._mapping) if row is not None else None

    # --- reminders ----------------------------------------------------------------------------

    async def due_reminders(
        self, now: dt.datetime, ahead: dt.timedelta
    ) -> list[tuple[Event, Registration]]:
        """Places at events starting within ``ahead`` whose citizen was not reminded yet."""
        query = (
            _PLACES.add_columns(*(c.label(f"ev_{c.name}") for c in _E.__table__.c))
            .join(_E, _E.id == _R.event_id)
            .where(
                _R.status == Place.REGISTERED,
                _R.reminded_at.is_(None),
                _E.cancelled_at.is_(None),
                _E.starts_at > now,
                _E.starts_at <= now + ahead,
            )
            .order_by(_E.starts_at, _R.id)
        )
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
        found = []
        for row in rows:
            m = row._mapping
            event = _event({c.name: m[f"ev_{c.name}"] for c in _E.__table__.c})
            found.append((event, _registration(m)))
        return found

    async def claim_reminder(self, registration_id: int, now: dt.datetime) -> bool:
        """Mark the place reminded; True for the one caller that did (it sends it then)."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(_R)
                .where(
                    _R.id == registration_id,
                    _R.reminded_at.is_(None),
                    _R.status == Place.REGISTERED,
                )
                .values(reminded_at=now)
            )
            if not result.rowcount:
                return False
            event_id = select(_R.event_id).where(_R.id == registration_id).scalar_subquery()
            await db.execute(
                update(_E)
                .where(_E.id == event_id, _E.reminded_at.is_(None))
                .values(reminded_at=now)
            )
        return True


def _why_not(event: Event | None) -> Change:
    """Why an event cannot change: unknown, cancelled, or (else) started."""
    if event is None:
        return Change.UNKNOWN
    if event.cancelled_at is not None:
        return Change.CANCELLED
    return Change.STARTED
