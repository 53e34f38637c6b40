"""The leases of :mod:`bot.conversation.delivery`: which gateway answers and sends for a
conversation, until when (``conversations.lease_owner``/``lease_until``), as queries for both
databases (see :mod:`bot.conversation.store_queries`).

- Claiming one conversation is a conditional ``UPDATE`` (free, expired or already ours): on
  PostgreSQL a concurrent claimer waits for the row and re-reads it, on SQLite the one writer
  runs them in turn; either way one gateway wins.
- The sweep selects conversations with due work and a free or expired lease ``FOR UPDATE SKIP
  LOCKED`` (PostgreSQL; SQLite has one writer and ignores the clause) and takes them in the same
  transaction: gateways sweeping at once take different conversations.
- Giving a lease back checks, in the same statement, that no work is due: a message stored just
  before is never left without a gateway (one stored just after is found by its gateway's claim
  or, in the rare race where that claim read the lease still held, by the next sweep).

Moments are the gateways' clocks (UTC): they must agree to well within the lease's length.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import DateTime, and_, bindparam, exists, null, or_, select, update

from bot.conversation.store import PENDING
from bot.storage.tables import Conversation, Message

if TYPE_CHECKING:
    from bot.conversation.store_queries import Db, Query

T = TypeVar("T")

_MOMENT = DateTime(timezone=True)
_NOW = bindparam("now", type_=_MOMENT)
_UNTIL = bindparam("until", type_=_MOMENT)
_FREE = or_(Conversation.lease_owner.is_(None), Conversation.lease_until < _NOW)
#: Work that a gateway must do now: a message to answer, a reply to send (not backing off).
_DUE_NOW = or_(
    and_(Message.status == "received", Message.direction == "in"),
    and_(
        Message.status == PENDING, Message.direction == "out",
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= _NOW),
    ),
)  # fmt: skip
_CLAIM = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("conversation_id"),
        or_(_FREE, Conversation.lease_owner == bindparam("owner")),
    )
    .values(lease_owner=bindparam("owner"), lease_until=_UNTIL)
)
_DUE_CONVERSATIONS = (
    select(Conversation.id)
    .where(
        Conversation.channel.in_(bindparam("channels", expanding=True)), _FREE,
        Conversation.id.in_(select(Message.conversation_id).where(_DUE_NOW)),
    )
    .order_by(Conversation.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)  # fmt: skip
_TAKE = (
    update(Conversation)
    .where(Conversation.id.in_(bindparam("ids", expanding=True)))
    .values(lease_owner=bindparam("owner"), lease_until=_UNTIL)
)
_RENEW = (
    update(Conversation)
    .where(
        Conversation.id.in_(bindparam("ids", expanding=True)),
        Conversation.lease_owner == bindparam("owner"),
    )
    .values(lease_until=_UNTIL)
    .returning(Conversation.id)
)
_RELEASE = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("conversation_id"),
        Conversation.lease_owner == bindparam("owner"),
        ~exists().where(Message.conversation_id == Conversation.id, _DUE_NOW),
    )
    .values(lease_owner=null(), lease_until=null())
)
_RELEASE_ALL = (
    update(Conversation)
    .where(Conversation.lease_owner == bindparam("owner"))
    .values(lease_owner=null(), lease_until=null())
)
_MARK_INVITED = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("conversation_id"),
        or_(Conversation.invited_at.is_(None), Conversation.invited_at < bindparam("since")),
    )
    .values(invited_at=_NOW)
)


class LeaseQueries(ABC):
    """The lease operations of :class:`~bot.conversation.store.ConversationStore`."""

    @abstractmethod
    async def _write(self, query: Query[T]) -> T:
        """Run ``query`` in a transaction; its result once that is committed."""

    async def claim(
        self, conversation_id: int, owner: str, until: dt.datetime, now: dt.datetime
    ) -> bool:
        params = {
            "conversation_id": conversation_id, "owner": owner, "until": _utc(until),
            "now": _utc(now),
        }  # fmt: skip
        return await self._write(lambda db: db.execute(_CLAIM, params).rowcount == 1)

    async def claim_due(
        self, channels: Sequence[str], owner: str, until: dt.datetime, now: dt.datetime,
        limit: int,
    ) -> list[int]:  # fmt: skip
        if not channels:
            return []
        found = {"channels": list(channels), "now": _utc(now), "limit": limit}

        def query(db: Db) -> list[int]:
            ids = [int(row[0]) for row in db.execute(_DUE_CONVERSATIONS, found)]
            if ids:
                db.execute(_TAKE, {"ids": ids, "owner": owner, "until": _utc(until)})
            return ids

        return await self._write(query)

    async def renew(
        self, conversation_ids: Sequence[int], owner: str, until: dt.datetime
    ) -> set[int]:
        if not conversation_ids:
            return set()
        params = {"ids": list(conversation_ids), "owner": owner, "until": _utc(until)}
        return await self._write(lambda db: {int(r[0]) for r in db.execute(_RENEW, params)})

    async def release(self, conversation_id: int, owner: str, now: dt.datetime) -> bool:
        params = {"conversation_id": conversation_id, "owner": owner, "now": _utc(now)}
        return await self._write(lambda db: db.execute(_RELEASE, params).rowcount == 1)

    async def release_all(self, owner: str) -> int:
        return await self._write(lambda db: db.execute(_RELEASE_ALL, {"owner": owner}).rowcount)

    async def mark_invited(
        self, conversation_id: int, now: dt.datetime, interval: dt.timedelta
    ) -> bool:
        params = {
            "conversation_id": conversation_id, "now": _utc(now), "since": _utc(now - interval),
        }  # fmt: skip
        return await self._write(lambda db: db.execute(_MARK_INVITED, params).rowcount == 1)


def _utc(moment: dt.datetime) -> dt.datetime:
    """The same moment in UTC: SQLite stores the wall time it is given, zone dropped."""
    return moment.astimezone(dt.UTC)
