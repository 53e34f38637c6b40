"""When the monthly declaration is due, for the citizen's last RUC digit.

The digit comes from the message ("mi RUC termina en 7", a RUC) or from a RUC given earlier in
the conversation (slot ``ruc``). Dates come only from a loaded, verified year in
data/cronograma/; without one the citizen gets their group and where to see the dates.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_answers import knowledge, utter_article, utter_text
from bot.knowledge.tax.cronograma import Cronograma, group_of, months_es
from bot.knowledge.tax.ruc import find_ruc, is_valid_ruc
from bot.knowledge.text import fold

ARTICLE = "cronograma"
_DIGIT = re.compile(
    r"\b(?:termina\w*|acaba\w*|finaliza\w*)\s+en\s+(?:el\s+)?(\d)\b"
    r"|\bultimo\s+(?:digito|numero)\s+(?:de\s+mi\s+ruc\s+)?(?:es\s+)?(?:el\s+)?(\d)\b"
)
_cronograma: Optional[Cronograma] = None


def cronograma() -> Cronograma:
    global _cronograma
    if _cronograma is None:
        _cronograma = Cronograma()
    return _cronograma


def use_cronograma(calendar: Cronograma) -> None:
    global _cronograma
    _cronograma = calendar


def _today() -> dt.date:
    return dt.date.today()


def last_digit(text: str, remembered_ruc: Optional[str]) -> Optional[int]:
    match = _DIGIT.search(fold(text))
    if match:
        return int(next(g for g in match.groups() if g))
    ruc = find_ruc(text)
    if ruc and is_valid_ruc(ruc):
        return int(ruc[-1])
    if remembered_ruc and is_valid_ruc(remembered_ruc):
        return int(remembered_ruc[-1])
    return None


class ActionCronograma(Action):
    def name(self) -> Text:
        return "action_cronograma"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        article = knowledge().current.require(ARTICLE)
        text = str(tracker.latest_message.get("text") or "")
        digit = last_digit(text, tracker.get_slot("ruc"))
        if digit is None:
            utter_article(dispatcher, article)
            return []
        group = group_of(digit)
        found = cronograma().next_due(group, _today())
        if found is None:
            body = article.render("sin_fechas", digito=str(digit), grupo=group)
        else:
            (year, month), due, calendar = found
            body = article.render(
                "con_fecha",
                digito=str(digit),
                grupo=group,
                periodo=f"{months_es()[month - 1]} {year}",
                fecha=f"{due.day} de {months_es()[due.month - 1]} de {due.year}",
                anio=str(calendar.year),
                norma=calendar.norm,
            )
        utter_text(dispatcher, body, article)
        return []
