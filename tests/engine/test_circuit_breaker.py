"""Runs in the engine environment (make unit-engine): a conversation whose turn tripped Rasa's
circuit breaker is answered again at its next message."""

from __future__ import annotations

import pytest
from rasa.core.processor import MessageProcessor
from rasa.exceptions import ActionLimitReached
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine import circuit_breaker


def _looping_turn(actions: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("loop", slots=[])
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(UserUttered("solo yo", {"name": "asesor_regimen", "confidence": 0.9}))
    for _ in range(actions):
        tracker.update(ActionExecuted("action_answer"))
    return tracker


def _processor(limit: int) -> MessageProcessor:
    processor = MessageProcessor.__new__(MessageProcessor)  # no model: only the breaker runs
    processor.max_number_of_predictions = limit
    return processor


def test_the_breaker_ends_the_turn_so_the_next_message_is_handled() -> None:
    circuit_breaker.install()
    circuit_breaker.install()  # idempotent
    processor = _processor(limit=3)
    tracker = _looping_turn(actions=3)
    with pytest.raises(ActionLimitReached):
        processor.predict_next_with_tracker_if_should(tracker)
    assert tracker.latest_action_name == ACTION_LISTEN_NAME
    # The next message starts a turn with nothing counted against the limit.
    tracker.update(UserUttered("hola", {"name": "saludo", "confidence": 0.9}))
    assert not processor.is_action_limit_reached(tracker, True)
