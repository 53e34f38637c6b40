"""Reading Rasa's events as its pika broker publishes them: what counts, under which intent and
day, when the NLU was unsure, what is poisoned, and a key the same on every delivery."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bot.analytics.events import Kind, PoisonedEvent, read_event

#: 2026-12-02 03:00 UTC: still 2026-12-01 in Lima.
LATE_EVENING = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC).timestamp()


def user(text: str = "que es el ruc", intent: str = "consulta_ruc", **extra: Any) -> dict[str, Any]:
    return {
        "sender_id": "webchat:ana",
        "event": "user",
        "timestamp": LATE_EVENING,
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.93},
            "intent_ranking": [{"name": intent, "confidence": 0.93}],
        },
        "input_channel": "rest",
        **extra,
    }


def body(event: object) -> bytes:
    return json.dumps(event).encode()


def test_a_message_counts_under_its_intent_on_its_day_in_lima() -> None:
    event = read_event(body(user()))
    assert event is not None
    assert (event.kind, event.name, event.low_confidence) == (Kind.MESSAGE, "consulta_ruc", False)
    assert event.day == dt.date(2026, 12, 1)


def test_a_message_below_the_fallback_threshold_counts_under_its_best_intent_as_unsure() -> None:
    unsure = user(intent="nlu_fallback")
    unsure["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "clave_sol", "confidence": 0.31},
        {"name": "consulta_ruc", "confidence": 0.2},
    ]
    event = read_event(body(unsure))
    assert event is not None and (event.name, event.low_confidence) == ("clave_sol", True)
    alone = user(intent="nlu_fallback")
    alone["parse_data"]["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.4}]
    event = read_event(body(alone))
    assert event is not None and (event.name, event.low_confidence) == ("nlu_fallback", True)


def test_actions_and_sessions_count_but_listening_slots_and_utterances_do_not() -> None:
    base = {"sender_id": "webchat:ana", "timestamp": LATE_EVENING}
    action = read_event(body({**base, "event": "action", "name": "action_answer"}))
    assert action is not None and (action.kind, action.name) == (Kind.ACTION, "action_answer")
    session = read_event(body({**base, "event": "session_started"}))
    assert session is not None and session.kind is Kind.SESSION
    assert read_event(body({**base, "event": "action", "name": "action_listen"})) is None
    assert read_event(body({**base, "event": "slot", "name": "ruc", "value": "20"})) is None
    assert read_event(body({**base, "event": "bot", "text": "Hola"})) is None


def test_the_key_is_the_same_for_every_delivery_and_differs_between_events() -> None:
    first = read_event(body(user()))
    again = read_event(json.dumps(user(), indent=2, sort_keys=True).encode())
    later = read_event(body(user(timestamp=LATE_EVENING + 0.001)))
    other = read_event(body(user(sender_id="webchat:beto")))
    assert first is not None and again is not None and later is not None and other is not None
    assert first.key == again.key
    assert len({first.key, later.key, other.key}) == 3


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not utf-8", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (body({"sender_id": "a", "timestamp": 1.0}), "no event type"),
        (body({"event": "user", "timestamp": 1.0}), "no sender_id"),
        (body({"event": "user", "sender_id": "a", "timestamp": "ayer"}), "no numeric timestamp"),
        (body({"event": "user", "sender_id": "a", "timestamp": True}), "no numeric timestamp"),
        (body({"event": "user", "sender_id": "a", "timestamp": 1e300}), "out of range"),
        (body({"event": "user", "sender_id": "a", "timestamp": 1.0}), "parse_data"),
        (body({"event": "action", "sender_id": "a", "timestamp": 1.0}), "without a name"),
    ],
)
def test_what_is_not_a_rasa_event_is_poisoned_and_the_reason_names_no_content(
    raw: bytes, reason: str
) -> None:
    with pytest.raises(PoisonedEvent, match=reason) as caught:
        read_event(raw)
    assert "ayer" not in str(caught.value)
