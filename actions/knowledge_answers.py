"""Answer the predicted intent from its knowledge-base article; clarify when unsure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import answer_handoff, escalation, handoff_request, latest_intent
from bot.escalation import NOT_UNDERSTOOD
from bot.knowledge import SYSTEM_ARTICLES, Article, KnowledgeBase, KnowledgeStore
from bot.knowledge_search import KnowledgeSearch

ROOT = Path(__file__).resolve().parent.parent

FALLBACK_INTENT = "nlu_fallback"
#: Candidates offered by "¿Quisiste decir…?": at most this many, each at least this confident.
MAX_CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.05
#: Knowledge-base search hits below this BM25 score are not offered (docs/benchmarks.md).
MIN_SEARCH_SCORE = 4.0
#: Intents (with confidences) reported for the review inbox.
MAX_REPORTED_INTENTS = 5
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


#: Key of the custom payload naming the article an answer came from.
RATED_KEY = "article"


def utter_article(
    dispatcher: CollectingDispatcher,
    article: Article,
    tracker: Optional[Tracker] = None,
    json_message: Optional[Dict[str, Any]] = None,
) -> None:
    """The article's answer, in its version for the citizen's channel when it has one, with
    ``json_message`` for the gateway (e.g. a handoff request) when given."""
    message = article.as_bot_message()
    channel = channel_of(tracker) if tracker is not None else None
    dispatcher.utter_message(
        text=article.answer_for(channel),
        buttons=message.get("buttons", []),
        json_message=json_message,
    )


def channel_of(tracker: Tracker) -> Optional[str]:
    """The channel the gateway named in the message's metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    channel = metadata.get("channel") if isinstance(metadata, dict) else None
    return channel if isinstance(channel, str) else None


def utter_text(
    dispatcher: CollectingDispatcher, text: str, article: Article, buttons: bool = True
) -> None:
    """A computed answer, with the follow-up buttons of the article it comes from."""
    shown = article.as_bot_message().get("buttons", []) if buttons else []
    dispatcher.utter_message(text=text, buttons=shown)


class ActionAnswer(Action):
    """Answer the latest intent with the article of the same id, and ask the gateway for a
    person when the topic or the repetition calls for one (:func:`actions.handoff.answer_handoff`).
    """

    def name(self) -> Text:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = knowledge().current
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        article = kb.get(intent) if intent not in SYSTEM_ARTICLES else None
        report: Dict[str, Any] = dict(answer_handoff(tracker) or {})
        if article is not None:
            # The gateway offers 👍/👎 on answers from an article (the review inbox).
            report[RATED_KEY] = article.id
        utter_article(dispatcher, article or kb.require("fallback"), tracker, report or None)
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
    """First misunderstanding: "¿Quisiste decir…?" with the likeliest articles as buttons: the
    NLU's candidates first, then knowledge-base search hits. A second misunderstanding in a
    row, or nothing to offer, gets the polite fallback; after a second misunderstanding in a row
    the gateway is also asked for a person (``custom.handoff``, reason ``no_entiende``).

    Every such message is reported to the gateway (``custom.clarification``: the intents with
    their confidences and what was offered) for the admins' review inbox; the gateway strips
    it before the citizen's channel sees the message.
    """

    def name(self) -> Text:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = knowledge().current
        ranking = tracker.latest_message.get("intent_ranking") or []
        intents = [
            {"name": c.get("name"), "confidence": round(float(c.get("confidence") or 0.0), 4)}
            for c in ranking[:MAX_REPORTED_INTENTS]
        ]
        buttons: List[Dict[str, str]] = []
        report: Dict[str, Any] = {}
        if _previous_user_intent(tracker) == FALLBACK_INTENT:
            name, confidence = _best_guess(tracker, ranking)
            report.update(
                handoff_request(NOT_UNDERSTOOD, escalation().default_team, name, confidence)
            )
        else:
            offered = [a.id for a in _candidates(kb, ranking)]
            text = str(tracker.latest_message.get("text") or "")
            for hit in search().search(text, limit=MAX_CANDIDATES, min_score=MIN_SEARCH_SCORE):
                if hit.article.id not in offered and len(offered) < MAX_CANDIDATES:
                    offered.append(hit.article.id)
            buttons = [{"title": kb.require(i).title, "payload": f"/{i}"} for i in offered]
        report["clarification"] = {"intents": intents, "offered": [b["payload"] for b in buttons]}
        if not buttons:
            fallback = kb.require("fallback").as_bot_message()
            dispatcher.utter_message(
                text=fallback["text"], buttons=fallback.get("buttons", []), json_message=report
            )
            return []
        # The prompt's own buttons (e.g. "Ninguna de estas") follow the candidates.
        prompt = kb.require("aclarar").as_bot_message()
        dispatcher.utter_message(
            text=prompt["text"], buttons=buttons + prompt.get("buttons", []), json_message=report
        )
        return []


def _best_guess(tracker: Tracker, ranking: List[Dict[str, Any]]) -> Tuple[str, float]:
    """The NLU's likeliest intent other than the fallback (what the citizen perhaps meant)."""
    for candidate in ranking:
        if candidate.get("name") and candidate.get("name") != FALLBACK_INTENT:
            return str(candidate["name"]), float(candidate.get("confidence") or 0.0)
    return latest_intent(tracker)


def _candidates(kb: KnowledgeBase, ranking: List[Dict[str, Any]]) -> List[Article]:
    """The NLU's best guesses that have an article worth offering."""
    found: List[Article] = []
    for candidate in ranking:
        name = str(candidate.get("name") or "")
        if name == FALLBACK_INTENT or name in SYSTEM_ARTICLES:
            continue
        if (candidate.get("confidence") or 0.0) < MIN_CANDIDATE_CONFIDENCE:
            break
        article = kb.get(name)
        if article is None or NOT_SUGGESTED_TAG in article.tags:
            continue
        found.append(article)
        if len(found) == MAX_CANDIDATES:
            break
    return found


_search: Optional[Tuple[KnowledgeBase, KnowledgeSearch]] = None


def search() -> KnowledgeSearch:
    """The search index of the current knowledge base (rebuilt when an article changes)."""
    global _search
    kb = knowledge().current
    if _search is None or _search[0] is not kb:
        nlu_dir = Path(os.environ.get("NLU_DIR") or ROOT / "data" / "nlu")
        _search = (kb, KnowledgeSearch.of(kb, nlu_dir))
    return _search[1]
