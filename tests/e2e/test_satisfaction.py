"""The satisfaction survey end to end on the real stack (Rasa with the trained model, the action
server, the gateway): a web chat citizen says goodbye, is asked the rating once, answers 5 and a
comment, says goodbye again and is not asked again, and the answer is stored; a citizen who
goes quiet after an answer is asked once; after an agent closes a handoff the citizen is asked
once, and answers typing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from bot.satisfaction.ratings import rating_payload
from tests.e2e.stack import Stack, stop
from tests.e2e.test_handoff import Console, create_user

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")
SURVEY = KB.require("satisfaccion")
#: Said to the trained model, it is the goodbye intent (``despedida``, 0.99); "chau, gracias"
#: is understood as thanks (``agradecimiento``) and asks nothing.
GOODBYE, GOODBYE_AGAIN = "listo, eso es todo. chau", "hasta luego"
#: Quiet this long after the assistant's answer, a citizen is asked (checked every second).
IDLE_SECONDS = 3


@pytest.fixture(scope="module")
def survey_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack.on_free_ports(
        tmp_path_factory.mktemp("satisfaction"),
        satisfaction_idle_minutes=IDLE_SECONDS / 60,
        satisfaction_check_seconds=1,
    )
    children = stack.start_all()
    try:
        stack.wait_healthy()
        create_user(stack, "ana", "agent")
        yield stack
    finally:
        for child in children.values():
            stop(child)


def surveys(stack: Stack, sender: str) -> list[tuple[Any, ...]]:
    """The sender's surveys as stored: trigger, rating, comment, handoff."""
    with sqlite3.connect(stack.workdir / "gateway.db") as db:
        return db.execute(
            "SELECT s.trigger, s.rating, s.comment, s.handoff_id FROM satisfaction_surveys s"
            " JOIN conversations c ON c.id = s.conversation_id"
            " WHERE c.channel = 'webchat' AND c.sender_id = ? ORDER BY s.id",
            (sender,),
        ).fetchall()


def asked(stack: Stack, sender: str, question: str) -> int:
    """How many times the question is in the citizen's history."""
    return sum(1 for h in stack.history(sender) if h["text"] == question)


def wait_for(stack: Stack, sender: str, question: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while asked(stack, sender, question) == 0:
        assert time.monotonic() < deadline, f"never asked: {stack.history(sender)[-3:]}"
        time.sleep(0.5)


def test_asked_once_after_a_goodbye(survey_stack: Stack) -> None:
    stack, sender = survey_stack, "survey-goodbye"
    goodbye, question = stack.chat(sender, GOODBYE)
    assert goodbye["text"] == KB.require("despedida").answer
    assert question["text"] == SURVEY.answer
    assert [b["payload"] for b in question["buttons"]] == [rating_payload(n) for n in range(1, 6)]

    [thanks] = stack.chat(sender, rating_payload(5))  # the page sends the button's payload
    assert thanks["text"] == SURVEY.render("gracias_nota")
    [done] = stack.chat(sender, "Me explicaron muy claro cómo sacar el RUC")
    assert done["text"] == SURVEY.render("gracias_comentario")

    again = stack.chat(sender, GOODBYE_AGAIN)
    assert [m["text"] for m in again] == [KB.require("despedida").answer]  # not asked again
    assert asked(stack, sender, SURVEY.answer) == 1
    assert surveys(stack, sender) == [
        ("despedida", 5, "Me explicaron muy claro cómo sacar el RUC", None)
    ]


def test_asked_once_when_quiet_after_an_answer(survey_stack: Stack) -> None:
    stack, sender = survey_stack, "survey-idle"
    [answer, *_] = stack.chat(sender, "que es el ruc")
    assert answer["text"] == KB.require("ruc_que_es").answer
    question = SURVEY.render("pregunta_inactividad")
    wait_for(stack, sender, question)  # pushed to the page, and in its history
    time.sleep(IDLE_SECONDS + 2)  # more rounds of the job: not asked twice
    assert asked(stack, sender, question) == 1
    [thanks] = stack.chat(sender, "cinco")
    assert thanks["text"] == SURVEY.render("gracias_nota")
    [skipped] = stack.chat(sender, "Omitir")
    assert skipped["text"] == SURVEY.render("omitido")
    assert surveys(stack, sender) == [("inactividad", 5, None, None)]


def test_asked_once_after_an_agent_closes_the_handoff(survey_stack: Stack) -> None:
    stack, sender = survey_stack, "survey-handoff"
    ana = Console(stack, "ana")  # signed in: online
    try:
        [queued] = stack.chat(sender, "quiero hablar con un asesor")
        assert "puesto 1 de la fila" in str(queued["text"])
        [waiting] = [h for h in ana.queue() if h["state"] == "pending"]
        assert ana.post(f"/api/handoffs/{waiting['id']}/claim").status_code == 200
        assert stack.chat(sender, GOODBYE) == []  # the desk has it: no survey
        assert ana.post(f"/api/handoffs/{waiting['id']}/messages", {"text": "Hola"}).is_success
        closed = ana.post(f"/api/handoffs/{waiting['id']}/close", {"resolution": "informado"})
        assert closed.status_code == 200, closed.text
    finally:
        ana.close()
    question = SURVEY.render("pregunta_handoff")
    wait_for(stack, sender, question)
    assert stack.history(sender)[-2]["text"] == KB.require("derivacion").render("cerrado")
    [thanks] = stack.chat(sender, "4")
    assert thanks["text"] == SURVEY.render("gracias_nota")
    time.sleep(IDLE_SECONDS + 2)  # quiet again: the idle job does not ask this session twice
    assert asked(stack, sender, question) == 1
    assert asked(stack, sender, SURVEY.render("pregunta_inactividad")) == 0
    assert surveys(stack, sender) == [("handoff", 4, None, waiting["id"])]
