"""Trackers in the shape the action server receives them from Rasa."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

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
) -> Tracker:
    events: List[Dict[str, Any]] = [{"event": "action", "name": "action_listen"}]
    if previous_intent:
        events += [
            user_event("antes", previous_intent),
            {"event": "action", "name": "action_answer"},
        ]
    events.append(user_event(text, intent))
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
    }
    return Tracker("webchat:t", slots or {}, latest, events, False, None, {}, "action_listen")
