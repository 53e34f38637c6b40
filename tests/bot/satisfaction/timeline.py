"""Time passing for a conversation in the tests: its messages, its last activity, its surveys
and its open form moved back (the stores stamp them with the real clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.tables import Conversation, FlowRow, Message, SurveyRow
from bot.storage.time import aware

#: Per table: its row key, its conversation, its moment.
_MOMENTS: tuple[tuple[Any, Any, Any, Any], ...] = (
    (Message, Message.id, Message.conversation_id, Message.created_at),
    (SurveyRow, SurveyRow.id, SurveyRow.conversation_id, SurveyRow.asked_at),
    (FlowRow, FlowRow.conversation_id, FlowRow.conversation_id, FlowRow.updated_at),
    (Conversation, Conversation.id, Conversation.id, Conversation.updated_at),
)


async def move_back(engine: AsyncEngine, conversation_id: int, by: dt.timedelta) -> None:
    """Everything recorded so far in the conversation happened ``by`` earlier."""
    async with engine.begin() as db:
        for table, key, conversation, moment in _MOMENTS:
            rows = (
                await db.execute(select(key, moment).where(conversation == conversation_id))
            ).all()
            for row_key, at in rows:
                await db.execute(
                    update(table)
                    .where(key == row_key)
                    .values({moment.key: (aware(at) - by).astimezone(dt.UTC)})
                )
