"""Answer the predicted intent from its knowledge-base article; clarify when unsure."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import SYSTEM_ARTICLES, Article, KnowledgeStore

FALLBACK_INTENT = "nlu_fallback"
#: Candidates offered by "¿Quisiste decir…?": at most this many, each at least this confident.
MAX_CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.05
#: Articles with this tag (greetings, thanks…) are never offered as "¿Quisiste decir…?".
NOT_SUGGESTED_TAG = "chitchat"

_store: Optional[KnowledgeStore] = None


def knowledge() -> KnowledgeStore:
    """The knowledge store, built on first use (``KNOWLEDGE_DIR`` or ``data/knowledge``)."""
    global _store
    if _store is None:
        _store = KnowledgeStore.from_env()
    return _store


def use_knowledge(store: KnowledgeStore) -> None:
    """Inject a store (tests, other deployments)."""
    global _store
    _store = store


def utter_article(dispatcher: CollectingDispatcher, article: Article) -> None:
    message = article.as_bot_message()
    dispatcher.utter_message(text=message["text"], buttons=message.get("buttons", []))


def utter_text(
    dispatcher: CollectingDispatcher, text: str, article: Article, buttons: bool = True
) -> None:
    """A computed answer, with the follow-up buttons of the article it comes from."""
    shown = article.as_bot_message().get("buttons", []) if buttons else []
    dispatcher.utter_message(text=text, buttons=shown)


class ActionAnswer(Action):
    """Answer the latest intent with the article of the same id."""

    def name(self) -> Text:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = knowledge().current
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        article = kb.get(intent) if intent not in SYSTEM_ARTICLES else None
        utter_article(dispatcher, article or kb.require("fallback"))
        return []


def _previous_user_intent(tracker: Tracker) -> Optional[str]:
    """Intent of the user message before the latest one, if any."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if not seen_latest:
            seen_latest = True
            continue
        return ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return None


class ActionClarify(Action):
    """First misunderstanding: "¿Quisiste decir…?" with the top candidates as buttons.

    A second misunderstanding in a row gets the polite fallback instead.
    """

    def name(self) -> Text:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = knowledge().current
        if _previous_user_intent(tracker) == FALLBACK_INTENT:
            utter_article(dispatcher, kb.require("fallback"))
            return []
        buttons: List[Dict[str, str]] = []
        for candidate in tracker.latest_message.get("intent_ranking") or []:
            name = candidate.get("name")
            if name == FALLBACK_INTENT or name in SYSTEM_ARTICLES:
                continue
            if (candidate.get("confidence") or 0.0) < MIN_CANDIDATE_CONFIDENCE:
                break
            article = kb.get(name)
            if article is None or NOT_SUGGESTED_TAG in article.tags:
                continue
            buttons.append({"title": article.title, "payload": f"/{article.id}"})
            if len(buttons) == MAX_CANDIDATES:
                break
        if not buttons:
            utter_article(dispatcher, kb.require("fallback"))
            return []
        # The prompt's own buttons (e.g. "Ninguna de estas") follow the candidates.
        prompt = kb.require("aclarar").as_bot_message()
        dispatcher.utter_message(text=prompt["text"], buttons=buttons + prompt.get("buttons", []))
        return []
