"""Answer the predicted intent from its knowledge-base article; clarify when unsure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import answer_handoff, escalation, handoff_request, latest_intent
from bot import contract
from bot.contract import NOT_UNDERSTOOD, Clarification
from bot.knowledge import clarification
from bot.knowledge.articles import (
    SYSTEM_ARTICLES,
    Article,
    KnowledgeBase,
    KnowledgeStore,
)
from bot.knowledge.clarification import FALLBACK_INTENT, MAX_CANDIDATES, MIN_SEARCH_SCORE, offerable
from bot.knowledge.search import KnowledgeSearch

ROOT = Path(__file__).resolve().parent.parent

#: Search hits fetched for a decision (the best few, to judge how clear the best one is).
SEARCH_LIMIT = MAX_CANDIDATES + 1
#: Intents (with confidences) reported for the review inbox.
MAX_REPORTED_INTENTS = 5
#: A question about these regimes that gives the business's figures ("vendo 25 mil al mes,
#: ¿me conviene el RUS?") is answered by the regime advisor with those figures, not the article.
REGIME_TOPICS = frozenset(
    {"regimenes_resumen", "regimen_nuevo_rus", "regimen_rer", "regimen_rmt", "regimen_general"}
)
ADVISOR_FORM = "asesor_regimen_form"
#: Entity roles that are the business's own figures (bot.engine.business_facts).
BUSINESS_FIGURES = frozenset({"ventas_mensuales", "compras_mensuales"})
#: The clarification article and its templates; the article a "no te entendí" shows as menu.
CLARIFY_ARTICLE, MENU_ARTICLE = "aclarar", "ayuda"

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
    channel = metadata.get(contract.CHANNEL) if isinstance(metadata, dict) else None
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
        if intent in REGIME_TOPICS and _gives_business_figures(tracker):
            return [FollowupAction(ADVISOR_FORM)]
        article = kb.get(intent) if intent not in SYSTEM_ARTICLES else None
        report: Dict[str, Any] = dict(answer_handoff(tracker) or {})
        if article is not None:
            # The gateway offers 👍/👎 on answers from an article (the review inbox).
            report[contract.ARTICLE] = article.id
        utter_article(dispatcher, article or kb.require("fallback"), tracker, report or None)
        text = str(tracker.latest_message.get("text") or "")
        if article is not None and not text.startswith("/") and contract.HANDOFF not in report:
            offer_second_question(dispatcher, kb, text, article.id)
        return []


def _gives_business_figures(tracker: Tracker) -> bool:
    """Whether the latest message states the business's sales or purchases (and no form runs)."""
    if (tracker.active_loop or {}).get("name"):
        return False
    entities = tracker.latest_message.get("entities") or []
    return any(e.get("entity") == "monto" and e.get("role") in BUSINESS_FIGURES for e in entities)


def offer_second_question(
    dispatcher: CollectingDispatcher, kb: KnowledgeBase, text: str, answered: str
) -> None:
    """When the message also asks about another article, offer it ("También preguntaste…")."""
    index = search()
    other = clarification.second_question(
        text,
        answered,
        lambda part: [
            (h.article.id, h.score) for h in index.search(part, SEARCH_LIMIT, MIN_SEARCH_SCORE)
        ],
        lambda part: len(index.words(part)),
        offerable(kb),
    )
    if other is None:
        return
    title = kb.require(other).title
    dispatcher.utter_message(
        text=kb.require(CLARIFY_ARTICLE).render("otra_pregunta", titulo=title),
        buttons=[{"title": title, "payload": f"/{other}"}],  # channels cut long titles
    )


def _previous_turn_misunderstood(tracker: Tracker) -> bool:
    """Whether the citizen's message before the latest one was not understood either: the NLU
    fell back and the reply was not an answer found by the search."""
    seen_latest = False
    answered = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "bot" and seen_latest:
            custom = (event.get("data") or {}).get("custom") or {}
            raw = custom.get(contract.CLARIFICATION) if isinstance(custom, dict) else None
            report = Clarification.read(raw)
            answered = answered or bool(report is not None and report.answered)
        if kind != "user":
            continue
        if not seen_latest:
            seen_latest = True
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        return intent == FALLBACK_INTENT and not answered
    return False


class ActionClarify(Action):
    """The NLU is unsure (``nlu_fallback``): decide with the knowledge search as a second
    signal (:mod:`bot.knowledge.clarification`).

    - The NLU and the search agree, or the search points clearly to one article: answer it,
      then "¿Te sirvió?" (the gateway offers 👍/👎 under it).
    - Otherwise "¿Quisiste preguntar por A, B o C?", the candidates named in the text and as
      buttons: the NLU's best guesses first, then search hits.
    - Nothing to offer (no word the knowledge base knows): "no te entendí" and the menu.
    - A second misunderstanding in a row: the polite fallback, and the gateway is asked for a
      person (a :class:`bot.contract.HandoffRequest`, reason ``no_entiende``).

    Every such message is reported to the gateway (a :class:`bot.contract.Clarification`: the
    intents with their confidences, what was offered, and the article ``answered`` when the
    search decided) for the admins' review inbox; the gateway strips it before the citizen's
    channel sees it.
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
        text = str(tracker.latest_message.get("text") or "")
        index = search()
        decision = clarification.decide_unsure(
            [(str(c.get("name") or ""), float(c.get("confidence") or 0.0)) for c in ranking],
            [(h.article.id, h.score) for h in index.search(text, SEARCH_LIMIT, MIN_SEARCH_SCORE)],
            offerable(kb),
            known_words=index.knows(text),
        )
        report: Dict[str, Any] = Clarification(intents).as_custom()
        if decision.kind == clarification.ANSWER_SEARCHED and decision.intent:
            article = kb.require(decision.intent)
            report = Clarification(intents, [f"/{article.id}"], article.id).as_custom()
            report[contract.ARTICLE] = article.id
            utter_article(dispatcher, article, tracker)
            dispatcher.utter_message(
                text=kb.require(CLARIFY_ARTICLE).render("te_sirvio"), json_message=report
            )
            return []
        if _previous_turn_misunderstood(tracker):
            name, confidence = _best_guess(tracker, ranking)
            report.update(
                handoff_request(NOT_UNDERSTOOD, escalation().default_team, name, confidence)
            )
            fallback = kb.require("fallback").as_bot_message()
            dispatcher.utter_message(
                text=fallback["text"], buttons=fallback.get("buttons", []), json_message=report
            )
            return []
        if decision.kind != clarification.CLARIFY:
            menu = kb.require(MENU_ARTICLE).as_bot_message()
            dispatcher.utter_message(
                text=kb.require("fallback").render("no_entendi", menu=menu["text"]),
                buttons=menu.get("buttons", []),
                json_message=report,
            )
            return []
        candidates = [kb.require(i) for i in decision.candidates]
        buttons = [{"title": a.title, "payload": f"/{a.id}"} for a in candidates]
        report = Clarification(intents, [b["payload"] for b in buttons]).as_custom()
        # The prompt's own buttons (e.g. "Ninguna de estas") follow the candidates.
        prompt = kb.require(CLARIFY_ARTICLE)
        dispatcher.utter_message(
            text=prompt.render("opciones", opciones=_spoken_list([a.title for a in candidates])),
            buttons=buttons + prompt.as_bot_message().get("buttons", []),
            json_message=report,
        )
        return []


def _spoken_list(titles: List[str]) -> str:
    """«A», «B» o «C»."""
    quoted = [f"«{t.rstrip('?').lstrip('¿')}»" for t in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " o " + quoted[-1]


def _best_guess(tracker: Tracker, ranking: List[Dict[str, Any]]) -> Tuple[str, float]:
    """The NLU's likeliest intent other than the fallback (what the citizen perhaps meant)."""
    for candidate in ranking:
        if candidate.get("name") and candidate.get("name") != FALLBACK_INTENT:
            return str(candidate["name"]), float(candidate.get("confidence") or 0.0)
    return latest_intent(tracker)


_search: Optional[Tuple[KnowledgeBase, KnowledgeSearch]] = None


def search() -> KnowledgeSearch:
    """The search index of the current knowledge base (rebuilt when an article changes)."""
    global _search
    kb = knowledge().current
    if _search is None or _search[0] is not kb:
        nlu_dir = Path(os.environ.get("NLU_DIR") or ROOT / "data" / "nlu")
        _search = (kb, KnowledgeSearch.of(kb, nlu_dir))
    return _search[1]
