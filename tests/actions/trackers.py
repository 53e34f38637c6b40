"""Trackers in the shape the action server receives them from Rasa."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Tracker


def user_event(text: str, intent: str, confidence: float = 0.9) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}},
    }


def tracker(
    intent: str,
    ranking: Optional[List[Dict[str, Any]]] = None,
    previous_intent: Optional[str] = None,
    text: str = "ahora",
    slots: Optional[Dict[str, Any]] = None,
    previous_intents: Sequence[str] = (),
    confidence: float = 0.9,
) -> Tracker:
    """The latest message has ``intent``; before it, the user messages with
    ``previous_intents`` (oldest first) or ``previous_intent``, each answered."""
    events: List[Dict[str, Any]] = [{"event": "action", "name": "action_listen"}]
    earlier = list(previous_intents) or ([previous_intent] if previous_intent else [])
    for earlier_intent in earlier:
        events += [
            user_event("antes", earlier_intent),
            {"event": "action", "name": "action_answer"},
            {"event": "action", "name": "action_listen"},
        ]
    events.append(user_event(text, intent, confidence))
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
    }
    return Tracker("webchat:t", slots or {}, latest, events, False, None, {}, "action_listen")
