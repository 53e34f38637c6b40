"""Runs in the engine environment (make unit-engine): the trained model and the project's action
server through the regime advisor, answered with the short replies citizens give ("nada",
"solo yo", "sí", "somos 3", or asking for the advisor again) at each of its questions. Every
turn gets a non-empty reply without Rasa repeating an action up to its per-message limit, the
form completes or is left cleanly, and the next message is answered.

The regression: a reply the form could not use and that NLU took for ``asesor_regimen`` had no
rule while the form ran, so Rasa predicted its core fallback (``action_answer``) until its limit
and that conversation never answered again (scripts/digression_rules.py now covers every
intent, and ``--check`` fails when one is missing)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from tests.engine import model_stack

#: Rasa warns about its own deprecations while it loads a model and domain.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
#: The trained-model fixtures (tests/engine/model_stack.py).
loop, action_server, agent = model_stack.loop, model_stack.action_server, model_stack.agent

FORM = "asesor_regimen_form"
#: More actions than a turn of the advisor needs (answer a side question, ask again, or finish
#: and recommend), far fewer than Rasa's limit of 10.
MAX_ACTIONS_PER_TURN = 4
#: The advisor's questions, each reached by the answers before it (the figures from the load
#: test's mix; 12 mil a month rules the Nuevo RUS out, so the workers are asked too).
REACH = {
    "ventas_mensuales": ["que regimen me conviene"],
    "compras_mensuales": ["que regimen me conviene", "vendo unos 7 mil al mes"],
    "actividad": ["que regimen me conviene", "vendo unos 7 mil al mes", "compro como 3 mil"],
    "activos_fijos": [
        "que regimen me conviene", "vendo unos 7 mil al mes", "compro como 3 mil",
        "tengo una bodega",
    ],
    "trabajadores": [
        "que regimen me conviene", "vendo unos 12 mil al mes", "compro como 5 mil",
        "tengo una bodega", "nada",
    ],
}  # fmt: skip
SHORT_ANSWERS = [
    "solo yo", "nada", "ninguno", "no tengo trabajadores", "somos 3", "sí", "no", "ok",
    "que regimen me conviene",
]  # fmt: skip
#: A question after the advisor: answered whatever state the advisor was left in.
NEXT = "cuanto es la uit"


def texts(messages: List[Dict[str, Any]] | None) -> List[str]:
    return [str(m.get("text") or "") for m in messages or [] if m.get("text")]


def actions_per_turn(tracker: DialogueStateTracker) -> List[int]:
    """How many actions Rasa ran after each user message (action_listen excluded)."""
    counts: List[int] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            counts.append(0)
        elif isinstance(event, ActionExecuted) and counts and event.action_name != "action_listen":
            counts[-1] += 1
    return counts


def talk(
    agent: Agent, loop: asyncio.AbstractEventLoop, messages: List[str]
) -> tuple[List[List[str]], DialogueStateTracker]:
    sender = f"asesor-{uuid.uuid4().hex[:8]}"
    replies = [
        texts(loop.run_until_complete(agent.handle_text(text, sender_id=sender)))
        for text in messages
    ]
    tracker = loop.run_until_complete(agent.tracker_store.retrieve(sender))
    assert tracker is not None
    return replies, tracker


def assert_answered_without_loops(
    messages: List[str], replies: List[List[str]], tracker: DialogueStateTracker
) -> None:
    for text, said in zip(messages, replies, strict=True):
        assert said, f"no reply to {text!r}: {replies}"
    counts = actions_per_turn(tracker)
    assert len(counts) == len(messages)
    assert max(counts) <= MAX_ACTIONS_PER_TURN, list(zip(messages, counts, strict=True))


def test_the_load_tests_advisor_conversation_completes(
    agent: Agent, loop: asyncio.AbstractEventLoop
) -> None:
    messages = [
        "vendo unos 7 mil al mes", "compro como 3 mil", "tengo una bodega", "nada", "solo yo",
        NEXT,
    ]  # fmt: skip
    replies, tracker = talk(agent, loop, messages)
    assert_answered_without_loops(messages, replies, tracker)
    assert replies[3][0].startswith("Te conviene el Nuevo RUS")
    assert tracker.active_loop_name is None
    assert "UIT" in replies[-1][0]


def test_asking_for_the_advisor_again_asks_the_pending_question_once(
    agent: Agent, loop: asyncio.AbstractEventLoop
) -> None:
    messages = ["que regimen me conviene", "vendo unos 7 mil al mes", "que regimen me conviene"]
    replies, tracker = talk(agent, loop, messages)
    assert_answered_without_loops(messages, replies, tracker)
    assert tracker.active_loop_name == FORM
    assert tracker.get_slot("requested_slot") == "compras_mensuales"
    assert replies[-1][-1].startswith("¿Y cuánto compras al mes")
    intro = sum(reply.startswith("Te ayudo a elegir") for reply in replies[-1])
    assert intro == 1, replies[-1]


@pytest.mark.parametrize("answer", SHORT_ANSWERS)
@pytest.mark.parametrize("question", list(REACH))
def test_a_short_answer_to_any_question_is_answered_and_the_next_message_too(
    agent: Agent, loop: asyncio.AbstractEventLoop, question: str, answer: str
) -> None:
    messages = [*REACH[question], answer, NEXT]
    replies, tracker = talk(agent, loop, messages)
    assert_answered_without_loops(messages, replies, tracker)
    # The short answer: the advisor asks (again or its next question), recommends, or was left
    # ("Listo, lo dejamos ahí. ¿En qué más te puedo ayudar?").
    last = replies[-2][-1]
    assert "¿" in last or last.startswith("Te conviene"), replies[-2]
    # The next question is answered; a running advisor then asks its question again.
    assert "UIT" in " ".join(replies[-1])
    if tracker.active_loop_name == FORM:
        assert tracker.get_slot("requested_slot") is not None
        assert replies[-1][-1].startswith("¿"), replies[-1]
