"""Proposed topics: keyed by the NLU's intent when it is sure of a real topic, else by the
folded words; counted per key on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.community.proposals import ProposalStore, TopicKeys, folded_topic
from bot.conversation.rasa_client import EngineUnavailable
from bot.conversation.store import ConversationStore


def test_folded_words_drop_accents_punctuation_and_the_lead_in() -> None:
    assert folded_topic("Una charla sobre el Régimen MYPE!!") == "regimen mype"
    assert folded_topic("Quisiera un taller de facturación electrónica") == (
        "facturacion electronica"
    )
    assert folded_topic("  IGV  ") == "igv"
    assert folded_topic("charla") == "charla"  # nothing but the lead-in: kept
    assert len(folded_topic("palabra " * 40)) == 128


def nlu(name: str, confidence: float) -> Any:
    async def parse(text: str) -> dict[str, Any]:
        return {"intent": {"name": name, "confidence": confidence}}

    return parse


async def test_the_intent_counts_when_the_nlu_is_sure_of_a_real_topic() -> None:
    assert await TopicKeys(nlu("detracciones", 0.9), 0.6).key("las detracciones") == "detracciones"
    assert await TopicKeys(nlu("detracciones", 0.5), 0.6).key("Las detracciones") == "detracciones"
    # Not a topic: the events themselves, a greeting, the fallback.
    for intent in ("eventos_charlas", "saludo", "nlu_fallback"):
        assert await TopicKeys(nlu(intent, 0.99), 0.6).key("Charlas de SIRE") == "sire"

    async def down(text: str) -> dict[str, Any]:
        raise EngineUnavailable("down")

    assert await TopicKeys(down, 0.6).key("Libros electrónicos") == "libros electronicos"
    assert await TopicKeys(None, 0.6).key("Libros") == "libros"


async def test_counts_per_topic_most_asked_first(
    engine: AsyncEngine, conversations: ConversationStore
) -> None:
    store = ProposalStore(engine)
    cid = await conversations.open_conversation("webchat", "ana")
    start = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
    for minute, (text, topic) in enumerate(
        [("IGV", "igv"), ("sire", "sire"), ("el igv", "igv"), ("pagar IGV", "igv"),
         ("SIRE!", "sire"), ("fraccionar", "fraccionar")]
    ):  # fmt: skip
        await store.add(cid, text, topic, start + dt.timedelta(minutes=minute))
    counted = await store.counts(examples=2)
    assert [(c.topic, c.count) for c in counted] == [("igv", 3), ("sire", 2), ("fraccionar", 1)]
    assert counted[0].examples == ["pagar IGV", "el igv"]  # the latest first
    assert counted[0].last_at == start + dt.timedelta(minutes=3)
