"""The admins' review inbox: messages the assistant handled badly, grouped, masked, annotated.

Items are the messages the assistant was unsure about (clarifications, fallbacks — the
``review_items`` the conversation service records), with the handoffs they caused. Near
duplicates (the same words once accents, case, punctuation, numbers and personal data are set
aside) form one group with a count. RUCs, DNIs, phone numbers and e-mail addresses are masked
unless an admin asks to see them (:mod:`bot.knowledge.personal_data`); neither a group's key nor the
search reveals them: the key is made from the text with placeholders, the search looks at the masked
text. Annotating a group writes its examples into the training files
(:mod:`bot.workbench.training_data`, which puts placeholders in place of personal data) and records
the decision on every item of the group.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.knowledge.personal_data import mask, with_placeholders
from bot.knowledge.text import fold
from bot.storage.tables import Conversation, HandoffRow, ReviewItem
from bot.storage.time import aware, utcnow

OPEN, ANNOTATED, OUT_OF_SCOPE, SPAM, DISMISSED = (
    "open",
    "annotated",
    "out_of_scope",
    "spam",
    "dismissed",
)
DECISIONS = (ANNOTATED, OUT_OF_SCOPE, SPAM, DISMISSED)
#: Out-of-scope messages teach the assistant's ``fuera_de_alcance`` intent.
OUT_OF_SCOPE_INTENT = "fuera_de_alcance"


def group_key(text: str) -> str:
    """What near duplicates share: folded words, numbers as ``#``, personal data as the same
    placeholder (so the key, which admins see, never holds any)."""
    words = re.findall(r"\w+", fold(with_placeholders(text)))
    return " ".join("#" if w.isdigit() else w for w in words)


@dataclass
class Group:
    key: str
    text: str
    items: list[int] = field(default_factory=list)
    channels: set[str] = field(default_factory=set)
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    #: What the model guessed when the message came (top intents with confidences).
    guessed: list[dict[str, Any]] = field(default_factory=list)
    picked: list[str] = field(default_factory=list)
    handoffs: int = 0
    #: ``clarification`` (the assistant was unsure), ``feedback`` (a citizen's 👎).
    sources: set[str] = field(default_factory=set)

    def public(self, shown: str) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": shown,
            "count": len(self.items),
            "items": self.items,
            "channels": sorted(self.channels),
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "guessed": self.guessed,
            "picked": sorted({p for p in self.picked if p}),
            "handoffs": self.handoffs,
            "sources": sorted(self.sources),
        }


class InboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def groups(
        self,
        status: str = OPEN,
        query: str = "",
        channel: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 2000,
        source: str | None = None,
    ) -> list[Group]:
        """Items grouped by near-duplicate text, the largest groups first; ``query`` is
        looked for in the masked text (searching a RUC does not tell whether someone wrote it)."""
        handoffs = (
            select(HandoffRow.conversation_id, func.count().label("n"))
            .where(HandoffRow.reason == "no_entiende")
            .group_by(HandoffRow.conversation_id)
            .subquery()
        )
        stmt = (
            select(
                ReviewItem.id,
                ReviewItem.text,
                ReviewItem.intents,
                ReviewItem.picked,
                ReviewItem.created_at,
                Conversation.channel,
                handoffs.c.n,
                ReviewItem.source,
            )
            .join(Conversation, Conversation.id == ReviewItem.conversation_id)
            .outerjoin(handoffs, handoffs.c.conversation_id == ReviewItem.conversation_id)
            .where(ReviewItem.status == status)
            .order_by(ReviewItem.id.desc())
            .limit(limit)
        )
        if channel:
            stmt = stmt.where(Conversation.channel == channel)
        if source:
            stmt = stmt.where(ReviewItem.source == source)
        if since is not None:
            stmt = stmt.where(ReviewItem.created_at >= since)
        async with self._engine.connect() as db:
            rows = (await db.execute(stmt)).all()
        wanted = fold(query).strip()
        groups: dict[str, Group] = {}
        for item_id, text, intents, picked, created, chan, handed, origin in rows:
            if wanted and wanted not in fold(mask(text)):
                continue
            key = group_key(text)
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(key, text, guessed=list(intents or [])[:3])
            group.items.append(item_id)
            group.channels.add(chan)
            group.sources.add(origin)
            created_at = aware(created)
            if created_at is not None:
                group.first_at = min(filter(None, (group.first_at, created_at)))
                group.last_at = max(filter(None, (group.last_at, created_at)))
            if picked:
                group.picked.append(picked)
            group.handoffs += 1 if handed else 0
        return sorted(groups.values(), key=lambda g: (-len(g.items), g.key))

    async def texts(self, item_ids: Sequence[int]) -> dict[int, str]:
        async with self._engine.connect() as db:
            rows = (
                await db.execute(
                    select(ReviewItem.id, ReviewItem.text).where(ReviewItem.id.in_(item_ids))
                )
            ).all()
        return {i: t for i, t in rows}

    async def decide(
        self, item_ids: Sequence[int], status: str, label: str | None, agent_id: int
    ) -> int:
        """Record the decision on open items; how many were still open."""
        async with self._engine.begin() as db:
            result = await db.execute(
                update(ReviewItem)
                .where(ReviewItem.id.in_(item_ids), ReviewItem.status == OPEN)
                .values(status=status, label=label, annotated_by=agent_id, annotated_at=utcnow())
            )
        return int(result.rowcount)

    async def counts(self) -> dict[str, int]:
        async with self._engine.connect() as db:
            rows = (
                await db.execute(
                    select(ReviewItem.status, func.count()).group_by(ReviewItem.status)
                )
            ).all()
        return {str(s): int(n) for s, n in rows}
