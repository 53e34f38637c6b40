"""The survey as citizens see and answer it: ratings typed in many ways, the words that skip
the comment, and the question rendered by every channel so that every channel can answer."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest

from bot.contract import SURVEY_RATE, gateway_payload
from bot.knowledge.articles import Article, load_knowledge
from bot.ops.settings import ROOT
from bot.satisfaction import ratings
from connectors.messenger import MessengerChannel
from connectors.twilio import TwilioChannel
from connectors.webchat import WebchatChannel
from connectors.whatsapp import WhatsAppChannel

ARTICLE: Article = load_knowledge(ROOT / "data" / "knowledge").require(ratings.ARTICLE)
NO_HTTP = cast(httpx.AsyncClient, None)


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5), (" 4. ", 4), ("5 estrellas", 5), ("cinco", 5), ("Cinco estrellas!", 5),
        ("le doy un 4", 4), ("4/5", 4), ("3 de 5", 3), ("nota 2", 2), ("⭐⭐", 2),
        ("⭐️⭐️⭐️", 3), ("una estrella", 1), ("Excelente", 5), ("MUY MALA", 1),
        ("regular.", 3), ("buena", 4), ("mala", 2),
    ],
)  # fmt: skip
def test_a_typed_rating_is_understood(text: str, rating: int) -> None:
    assert ratings.typed_rating(text, ARTICLE) == rating


@pytest.mark.parametrize(
    "text",
    ["6", "0", "10", "5 consultas", "como saco mi ruc", "", "muy buena atención", "⭐⭐⭐⭐⭐⭐",
     "/satisfaccion", "20123456786"],
)  # fmt: skip
def test_anything_else_is_not_a_rating(text: str) -> None:
    assert ratings.typed_rating(text, ARTICLE) is None


@pytest.mark.parametrize("text", ["Omitir", "no, gracias", "nada.", "No", "sin comentarios"])
def test_words_that_skip_the_comment(text: str) -> None:
    assert ratings.skips(text)


@pytest.mark.parametrize("text", ["no me gustó la espera", "nada claro el trámite", "5"])
def test_a_comment_is_not_a_skip(text: str) -> None:
    assert not ratings.skips(text)


def test_the_question_per_trigger_carries_the_five_ratings_as_gateway_payloads() -> None:
    goodbye, idle, handoff = (
        ratings.question(ARTICLE, trigger) for trigger in ("despedida", "inactividad", "handoff")
    )
    assert goodbye["text"] == ARTICLE.answer
    assert idle["text"] == ARTICLE.render("pregunta_inactividad") != goodbye["text"]
    assert handoff["text"] == ARTICLE.render("pregunta_handoff") != goodbye["text"]
    read = [gateway_payload(b["payload"]) for b in goodbye["buttons"]]
    assert [r[0] if r else None for r in read] == [SURVEY_RATE] * 5
    assert [ratings.payload_rating(r[1]) if r else None for r in read] == [1, 2, 3, 4, 5]
    assert goodbye["buttons"][4]["payload"] == '/satisfaccion{"nota": 5}'
    # Every title fits the tightest platform limit (a button's 20 characters).
    assert all(len(b["title"]) <= 20 for b in goodbye["buttons"])


@pytest.mark.parametrize(
    ("arguments", "rating"),
    [({"nota": 3}, 3), ({"nota": 0}, None), ({"nota": 6}, None), ({"nota": "5"}, None),
     ({"nota": True}, None), ({}, None)],
)  # fmt: skip
def test_only_a_whole_number_from_1_to_5_rates(arguments: dict[str, Any], rating: int) -> None:
    assert ratings.payload_rating(arguments) == rating


def test_the_comment_question_offers_to_skip() -> None:
    asked = ratings.ask_comment(ARTICLE)
    [skip] = asked["buttons"]
    assert skip["title"] == "Omitir"
    assert gateway_payload(skip["payload"]) == (SURVEY_RATE, {"omitir": True})


def test_the_web_chat_shows_five_buttons() -> None:
    [shown] = WebchatChannel(4096).render([ratings.question(ARTICLE, "despedida")], "ana")
    assert [b["payload"] for b in shown["buttons"]] == [
        ratings.rating_payload(n) for n in range(1, 6)
    ]


def test_messenger_shows_five_quick_replies_that_answer_with_the_payload() -> None:
    messenger = MessengerChannel(NO_HTTP, "", "", "")
    [shown] = messenger.render([ratings.question(ARTICLE, "despedida")], "psid")
    replies = shown["quick_replies"]
    assert [r["payload"] for r in replies] == [ratings.rating_payload(n) for n in range(1, 6)]
    assert replies[4]["title"] == "⭐⭐⭐⭐⭐ Excelente"


def test_whatsapp_shows_a_list_whose_rows_answer_with_the_payload() -> None:
    whatsapp = WhatsAppChannel(NO_HTTP, "", "", "", "")
    [shown] = whatsapp.render([ratings.question(ARTICLE, "inactividad")], "51999")
    interactive = shown["interactive"]
    assert interactive["type"] == "list"  # five options: more than three reply buttons
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [ratings.rating_payload(n) for n in range(1, 6)]
    reply = {"type": "list_reply", "list_reply": {"id": rows[3]["id"], "title": "x"}}
    message = {"from": "51999", "id": "wamid.1", "timestamp": "1", "type": "interactive",
               "interactive": reply}  # fmt: skip
    chosen = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": {"messages": [message]}}]}],
    }
    [inbound] = whatsapp.parse(chosen)
    assert gateway_payload(inbound.text) == (SURVEY_RATE, {"nota": 4})


def test_twilio_numbers_the_options_and_the_number_answers() -> None:
    twilio = TwilioChannel(NO_HTTP, "https://api.twilio.test", "AC1", "token", "+14155238886")
    [shown] = twilio.render([ratings.question(ARTICLE, "handoff")], "+51999")
    assert "5. ⭐⭐⭐⭐⭐ Excelente" in shown["Body"]
    [inbound] = twilio.parse({"MessageSid": "SM1", "From": "whatsapp:+51999", "Body": "5"})
    assert gateway_payload(inbound.text) == (SURVEY_RATE, {"nota": 5})
