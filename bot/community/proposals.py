"""Topics citizens propose for future events, grouped for counting.

Each proposal keeps the citizen's words and a ``topic`` key: the intent the assistant's NLU
reads in them when it is confident (``igv``, ``recibo_honorarios_emitir``: the same topic
however it is worded), otherwise the words themselves, folded (no accents, lower case, no
punctuation, no "charla sobre"). Admins see the counts per key, with the knowledge article's
title for an intent.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.rasa_client import EngineUnavailable
from bot.knowledge.text import fold
from bot.storage.tables import TopicProposal
from bot.storage.time import aware

logger = logging.getLogger(__name__)

TOPIC_MAX = 128
#: Intents that are not a topic for a talk (greetings, the events themselves, complaints…).
NOT_TOPICS = frozenset({
    "nlu_fallback", "saludo", "despedida", "agradecimiento", "es_bot", "pedir_humano",
    "frustracion", "ayuda", "fuera_de_alcance", "eventos_charlas", "quejas_sugerencias",
    "cancelar", "asesor_regimen",
})  # fmt: skip
_NOT_WORDS = re.compile(r"[^\w]+")
#: Words people put before the topic itself ("una charla sobre el IGV").
_LEAD = re.compile(
    r"^(?:(?:quiero|quisiera|me gustaria|propongo|podrian|pueden|hagan|dar|dictar)\s+)*"
    r"(?:(?:una|un|unas|unos)\s+)?(?:(?:charla|charlas|taller|talleres|curso|cursos|capacitacion"
    r"|capacitaciones|webinar|evento|eventos)\s+)?(?:(?:sobre|de|acerca de|del|para)\s+)?"
    r"(?:(?:el|la|los|las)\s+)?"
)


def folded_topic(text: str) -> str:
    """The words as a key: folded, punctuation gone, the lead-in ("charla sobre el") cut."""
    words = _NOT_WORDS.sub(" ", fold(text)).replace("_", " ")
    words = " ".join(words.split())
    short = _LEAD.sub("", words).strip()
    return (short or words)[:TOPIC_MAX]


#: What the NLU makes of a text (Rasa's ``/model/parse`` answer).
Parse = Callable[[str], Awaitable[dict[str, Any]]]


class TopicKeys:
    """The key a proposal is counted under."""

    def __init__(self, parse: Parse | None, min_confidence: float) -> None:
        self._parse = parse
        self._min_confidence = min_confidence

    async def key(self, text: str) -> str:
        """The intent when the NLU is sure enough of a real topic, else the folded words (also
        when the engine is down)."""
        if self._parse is not None:
            try:
                parsed = await self._parse(text)
            except EngineUnavailable as exc:
                logger.warning("topic of a proposal without the NLU: %s", exc)
                parsed = {}
            intent = parsed.get("intent") or {}
            name, confidence = intent.get("name"), intent.get("confidence")
            if (
                isinstance(name, str)
                and name not in NOT_TOPICS
                and isinstance(confidence, int | float)
                and confidence >= self._min_confidence
            ):
                return name[:TOPIC_MAX]
        return folded_topic(text)


@dataclass(frozen=True)
class TopicCount:
    """How often a topic was proposed, when last, and its latest wordings."""

    topic: str
    count: int
    last_at: dt.datetime
    examples: list[str]


class ProposalStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, conversation_id: int, text: str, topic: str, now: dt.datetime) -> None:
        async with self._engine.begin() as db:
            await db.execute(
                insert(TopicProposal).values(
                    conversation_id=conversation_id, text=text, topic=topic, created_at=now
                )
            )

    async def counts(self, limit: int = 200, examples: int = 3) -> list[TopicCount]:
        """The ``limit`` topics proposed most (ties: most recent first)."""
        p = TopicProposal
        query = (
            select(p.topic, func.count().label("n"), func.max(p.created_at).label("last"))
            .group_by(p.topic)
            .order_by(func.count().desc(), func.max(p.created_at).desc(), p.topic)
            .limit(limit)
        )
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
            found = []
            for row in rows:
                texts = (
                    await db.execute(
                        select(p.text)
                        .where(p.topic == row.topic)
                        .order_by(p.created_at.desc(), p.id.desc())
                        .limit(examples)
                    )
                ).scalars()
                found.append(TopicCount(row.topic, int(row.n), aware(row.last), list(texts)))
        return found
