"""Decide that a conversation needs a person; the gateway owns the handoff itself.

An action asks for it by attaching a :class:`bot.contract.HandoffRequest` (reason, team,
intent, confidence) to a bot message (the message's ``custom`` payload); the gateway strips it
before the citizen's channel sees the message. When and to which team come from
``data/handoff/`` (:mod:`bot.knowledge.handoff_rules`):

- the citizen asks for a person (``pedir_humano``) or is fed up with the assistant
  (``frustracion``): :class:`ActionDerivar`, to the default team;
- an intent listed in ``escalation.topics``, or the same question ``repeat_limit`` times in a
  row: after the article (:class:`actions.knowledge_answers.ActionAnswer`);
- a second misunderstanding in a row: with the polite fallback
  (:class:`actions.knowledge_answers.ActionClarify`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.contract import ASKED, FRUSTRATION, REPEATED, TOPIC, HandoffRequest
from bot.knowledge.clarification import FALLBACK_INTENT
from bot.knowledge.handoff_rules import Escalation, HandoffRulesStore

#: Why ``action_derivar`` hands over, by the intent it answers.
REASON_OF_INTENT = {"pedir_humano": ASKED, "frustracion": FRUSTRATION}

_rules: Optional[HandoffRulesStore] = None


def handoff_rules() -> HandoffRulesStore:
    """The handoff rules, loaded on first use (``HANDOFF_DIR`` or ``data/handoff``)."""
    global _rules
    if _rules is None:
        _rules = HandoffRulesStore(check_every=2.0)
    return _rules


def use_handoff_rules(store: HandoffRulesStore) -> None:
    """Inject a store (tests, other deployments)."""
    global _rules
    _rules = store


def escalation() -> Escalation:
    return handoff_rules().current.escalation


def handoff_request(
    reason: str, team: str, intent: str, confidence: Optional[float]
) -> Dict[str, Any]:
    """The payload that asks the gateway to hand the conversation to ``team``."""
    return HandoffRequest(reason, team, intent, round(float(confidence or 0.0), 4)).as_custom()


def latest_intent(tracker: Tracker) -> Tuple[str, float]:
    """Name and confidence of the intent of the citizen's latest message."""
    intent = tracker.latest_message.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def recent_user_intents(tracker: Tracker, limit: int) -> List[Optional[str]]:
    """Intents of the last ``limit`` user messages of this session, latest first."""
    intents: List[Optional[str]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        intents.append(((event.get("parse_data") or {}).get("intent") or {}).get("name"))
        if len(intents) == limit:
            break
    return intents


def answer_handoff(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The handoff request to attach to an article's answer, if the conversation needs one:
    a topic that goes to a person, or the same question ``repeat_limit`` times in a row."""
    rules = escalation()
    intent, confidence = latest_intent(tracker)
    if intent in rules.topics:
        return handoff_request(TOPIC, rules.topics[intent], intent, confidence)
    if intent == FALLBACK_INTENT or intent in rules.not_repeated:
        return None
    recent = recent_user_intents(tracker, rules.repeat_limit)
    if len(recent) == rules.repeat_limit and all(i == intent for i in recent):
        return handoff_request(REPEATED, rules.default_team, intent, confidence)
    return None


class ActionDerivar(Action):
    """The citizen asked for a person or is fed up with the assistant: ask for a handoff.

    The message carries only the request; the gateway tells the citizen what happens next
    (or answers with the intent's article when no agents' desk is set up).
    """

    def name(self) -> Text:
        return "action_derivar"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent, confidence = latest_intent(tracker)
        reason = REASON_OF_INTENT.get(intent, ASKED)
        request = handoff_request(reason, escalation().default_team, intent, confidence)
        dispatcher.utter_message(json_message=request)
        return []
