"""The survey as the citizen sees it and answers it.

Out: the question with five buttons, 1 to 5 (each payload is ``/satisfaccion{"nota": N}``,
:data:`bot.contract.SURVEY_RATE`), worded by the knowledge article ``satisfaccion``. Every
channel can answer it: the web chat shows the buttons, Messenger five quick replies, WhatsApp an
interactive list (more than its three reply buttons), Twilio a numbered list whose number the
connector turns back into the button's payload.

In: besides the payload, a rating typed while the survey waits — ``5``, ``5 estrellas``,
``5/5``, ``cinco``, ``le doy un 4``, ``⭐⭐⭐``, or a button's words (``excelente``,
``muy mala``); and the words that skip the comment (``omitir``, ``no``, ``nada``…).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.contract import SURVEY_RATE
from bot.conversation.channel import BotMessage
from bot.knowledge.articles import Article
from bot.knowledge.text import fold

#: The article with the survey's wording.
ARTICLE = "satisfaccion"
RATINGS = range(1, 6)
#: The payload's argument with the rating, and the one of the "Omitir" button.
RATING_KEY, SKIP_KEY = "nota", "omitir"
#: Template of the question per trigger (the goodbye's is the article's answer).
QUESTION_TEMPLATES = {"inactividad": "pregunta_inactividad", "handoff": "pregunta_handoff"}

_NUMBER_WORDS = {"uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}
_TYPED = re.compile(
    r"^(?:(?:le |te )?(?:doy|pongo|califico|calificaria|mi nota es|nota|calificacion)"
    r"(?: con| de)?\s+)?(?:(?:un|una)\s+)?"
    r"(?P<n>[1-5]|uno|una|un|dos|tres|cuatro|cinco)"
    r"(?:\s*(?:/|de)\s*(?:5|cinco))?"
    r"(?:\s+(?:estrellas?|puntos?))?$"
)
_STARS = re.compile(r"^[⭐★*]{1,5}$")
_NOISE = re.compile(r"[\s.,;:!¡?¿\"'()\ufe0f]+")
#: What skips the comment (folded, without punctuation): a refusal, or a goodbye.
SKIP_WORDS = frozenset(
    {"omitir", "omito", "no", "no gracias", "nada", "ninguno", "ninguna", "paso",
     "sin comentarios", "sin comentario", "no tengo comentarios", "asi esta bien", "ok", "listo",
     "gracias", "muchas gracias", "ok gracias", "chau", "chao", "adios", "hasta luego", "bye",
     "eso es todo"}
)  # fmt: skip


def _plain(text: str) -> str:
    """Folded, punctuation and extra spaces out: what the matchers below compare."""
    return " ".join(_NOISE.sub(" ", fold(text)).split())


def _words(title: str) -> str:
    """A button's title without its stars (what a citizen would type)."""
    return " ".join(re.sub(r"[^a-z ]", " ", fold(title)).split())


def typed_rating(text: str, article: Article) -> int | None:
    """The rating in a typed message (the whole message must be one), or None."""
    plain = _plain(text)
    stars = plain.replace(" ", "")
    if _STARS.match(stars):
        return len(stars)
    found = _TYPED.match(plain)
    if found is not None:
        value = found.group("n")
        return int(value) if value.isdigit() else _NUMBER_WORDS[value]
    for rating in RATINGS:
        if plain and plain == _words(article.render(f"boton_{rating}")):
            return rating
    return None


def skips(text: str) -> bool:
    """Whether the message declines to comment."""
    return _plain(text) in SKIP_WORDS


def rating_payload(rating: int) -> str:
    return SURVEY_RATE + json.dumps({RATING_KEY: rating})


SKIP_PAYLOAD = SURVEY_RATE + json.dumps({SKIP_KEY: True})


def payload_rating(arguments: dict[str, Any]) -> int | None:
    """The rating a payload's arguments carry (1–5, an integer), or None."""
    value = arguments.get(RATING_KEY)
    if isinstance(value, int) and not isinstance(value, bool) and value in RATINGS:
        return value
    return None


def question(article: Article, trigger: str) -> BotMessage:
    """The question for ``trigger`` with the five rating buttons."""
    template = QUESTION_TEMPLATES.get(trigger)
    text = article.render(template) if template else article.answer
    return {
        "text": text,
        "buttons": [
            {"title": article.render(f"boton_{n}"), "payload": rating_payload(n)} for n in RATINGS
        ],
    }


def ask_comment(article: Article) -> BotMessage:
    """Thanks for the rating, and the optional comment (with a button to skip it)."""
    return {
        "text": article.render("gracias_nota"),
        "buttons": [{"title": article.render("boton_omitir"), "payload": SKIP_PAYLOAD}],
    }


def say(article: Article, template: str) -> BotMessage:
    return {"text": article.render(template)}
