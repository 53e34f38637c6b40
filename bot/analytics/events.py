"""What a Rasa event, as its event broker publishes it, counts for.

Rasa publishes each new event of a conversation as a JSON object: the event's own fields
(``Event.as_dict()``: ``event``, ``timestamp`` in Unix seconds, …) and the conversation's
``sender_id``. Three kinds are counted (:class:`CountedEvent`):

- ``user``: a citizen's message, under the intent the NLU chose. When the NLU was not sure
  enough, Rasa's ``FallbackClassifier`` (config.yml: its ``threshold``) replaced the intent with
  ``nlu_fallback``: the message is counted under the best intent of its ranking all the same,
  marked *low confidence* (the same notion of "sure" as the assistant's fallback answer).
- ``action``: an action the assistant ran, except ``action_listen`` (waiting for the citizen).
- ``session_started``: a conversation session began.

Every other well-formed event (slots, the bot's utterances, …) counts for nothing. A message that
is not JSON, not an object, or lacks what its kind needs is *poisoned*: :class:`PoisonedEvent`
says why, never with the message's content.

Each counted event has a key, the same on every delivery of the same event: a hash of its
``sender_id``, kind, timestamp and name (intent or action) or text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: Lima's clock: UTC-5 all year (the same rule as :func:`bot.storage.time.lima_day`).
LIMA = dt.timezone(dt.timedelta(hours=-5), "America/Lima")
#: The intent Rasa's FallbackClassifier puts first when no intent reached its threshold.
FALLBACK_INTENT = "nlu_fallback"
#: Rasa's "waiting for the citizen": not something the assistant did.
LISTEN_ACTION = "action_listen"
#: Longest intent or action name kept (longer ones are cut; names in domain.yml are short).
MAX_NAME_CHARS = 100


class Kind(StrEnum):
    MESSAGE = "user"
    ACTION = "action"
    SESSION = "session_started"


class PoisonedEvent(ValueError):
    """A message that is not a Rasa event; the reason names no content."""


@dataclass(frozen=True)
class CountedEvent:
    """One event that counts, reduced to what the daily counts need."""

    key: str
    kind: Kind
    day: dt.date
    #: The intent (messages) or the action (actions); empty for sessions.
    name: str = ""
    low_confidence: bool = False


def read_event(body: bytes) -> CountedEvent | None:
    """The event in a broker message, or None when it is a Rasa event that counts for nothing.
    Raises :class:`PoisonedEvent` when ``body`` is not a Rasa event."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PoisonedEvent("not JSON") from exc
    if not isinstance(data, dict):
        raise PoisonedEvent("not a JSON object")
    kind, sender, timestamp = data.get("event"), data.get("sender_id"), data.get("timestamp")
    if not isinstance(kind, str) or not kind:
        raise PoisonedEvent("no event type")
    if not isinstance(sender, str) or not sender:
        raise PoisonedEvent("no sender_id")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        raise PoisonedEvent("no numeric timestamp")
    try:
        day = dt.datetime.fromtimestamp(timestamp, LIMA).date()
    except (OverflowError, OSError, ValueError) as exc:
        raise PoisonedEvent("timestamp out of range") from exc

    if kind == Kind.MESSAGE:
        intent, low = _intent(data.get("parse_data"))
        text = data.get("text")
        identity = text if isinstance(text, str) else intent
        return CountedEvent(_key(sender, kind, timestamp, identity), Kind.MESSAGE, day, intent, low)
    if kind == Kind.ACTION:
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise PoisonedEvent("action without a name")
        if name == LISTEN_ACTION:
            return None
        return CountedEvent(
            _key(sender, kind, timestamp, name), Kind.ACTION, day, name[:MAX_NAME_CHARS]
        )
    if kind == Kind.SESSION:
        return CountedEvent(_key(sender, kind, timestamp, ""), Kind.SESSION, day)
    return None


def _intent(parse_data: Any) -> tuple[str, bool]:
    """The message's intent and whether the NLU was unsure of it."""
    if not isinstance(parse_data, dict) or not isinstance(parse_data.get("intent"), dict):
        raise PoisonedEvent("user message without parse_data.intent")
    name = parse_data["intent"].get("name")
    if not isinstance(name, str) or not name:
        raise PoisonedEvent("user message without an intent name")
    if name != FALLBACK_INTENT:
        return name[:MAX_NAME_CHARS], False
    ranking = parse_data.get("intent_ranking")
    for candidate in ranking if isinstance(ranking, list) else []:
        other = candidate.get("name") if isinstance(candidate, dict) else None
        if isinstance(other, str) and other and other != FALLBACK_INTENT:
            return other[:MAX_NAME_CHARS], True
    return FALLBACK_INTENT, True


def _key(sender: str, kind: str, timestamp: float, identity: str) -> str:
    """The same for every delivery of one event (a JSON float reads back exactly)."""
    canonical = json.dumps([sender, kind, timestamp, identity], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
