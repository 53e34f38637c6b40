"""SUNAT's budget and spending in the chat, from the imported figures (intent ``transparencia``).

"¿cuánto ha gastado SUNAT este año?", "¿cuál es el presupuesto 2025?", "¿en qué gasta?" get the
figure, the date of the data and its source (:mod:`bot.knowledge.transparency.answers`, worded
by the ``transparencia`` article's templates); the invented sample says it is an example. Any
other transparency question, or no figures loaded, or their database down: the article, as
``action_answer`` gives it. Either way the gateway is told the article (👍/👎, its services).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import answer_handoff
from actions.knowledge_answers import knowledge, utter_article
from bot import contract
from bot.knowledge.transparency import open_transparency
from bot.knowledge.transparency.answers import answer, budget_question
from bot.knowledge.transparency.records import (
    TransparencyError,
    TransparencyNotLoaded,
    TransparencyStore,
)

logger = logging.getLogger(__name__)
ARTICLE = "transparencia"

_store: Optional[TransparencyStore] = None


def figures() -> TransparencyStore:
    """The figures' store, opened on first use (``TRANSPARENCY_URL``, set by ``bot up``)."""
    global _store
    if _store is None:
        _store = open_transparency(
            os.environ.get("TRANSPARENCY_URL") or "sqlite:///var/transparencia.db"
        )
    return _store


def use_figures(store: TransparencyStore) -> None:
    """Inject a store (tests, other deployments)."""
    global _store
    _store = store


def _today() -> dt.date:
    return dt.date.today()


class ActionTransparencia(Action):
    def name(self) -> Text:
        return "action_transparencia"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        article = knowledge().current.require(ARTICLE)
        report: Dict[str, Any] = dict(answer_handoff(tracker) or {})
        report[contract.ARTICLE] = article.id
        text = str(tracker.latest_message.get("text") or "")
        question = None if text.startswith("/") else budget_question(text, _today())
        body = None
        if question is not None:
            try:
                body = answer(question, figures(), article, _today())
            except TransparencyNotLoaded:
                logger.info("transparency question answered by the article: no figures loaded")
            except TransparencyError as exc:
                logger.warning("transparency figures unavailable: %s", type(exc).__name__)
        if body is None:
            utter_article(dispatcher, article, tracker, report)
            return []
        buttons = article.as_bot_message().get("buttons", [])
        dispatcher.utter_message(text=body, buttons=buttons, json_message=report)
        return []
