"""After Rasa's circuit breaker trips, the conversation listens again.

Rasa stops predicting after ``max_number_of_predictions`` actions in one turn (an action loop)
and counts those actions back to the latest ``action_listen``. It records none when it stops,
so every later message of that conversation trips the breaker at once and runs no action: the
citizen gets no answer ever again. :func:`install` makes the breaker record ``action_listen``
when it trips, so the turn ends there and the next message is handled afresh.
"""

from __future__ import annotations

from typing import Any, Tuple

_installed = False


def install() -> None:
    """Patch ``MessageProcessor.predict_next_with_tracker_if_should`` once per process (on the
    class: processors created before the patch get it too)."""
    global _installed
    if _installed:
        return
    from rasa.core.processor import MessageProcessor
    from rasa.exceptions import ActionLimitReached
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_predict = MessageProcessor.predict_next_with_tracker_if_should

    def predict_next_with_tracker_if_should(
        self: MessageProcessor, tracker: DialogueStateTracker
    ) -> Tuple[Any, Any]:
        try:
            return rasa_predict(self, tracker)
        except ActionLimitReached:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))  # the turn ends here
            raise

    MessageProcessor.predict_next_with_tracker_if_should = (  # type: ignore[method-assign]
        predict_next_with_tracker_if_should
    )
    _installed = True
