"""RUC lookups in the chat: validate, look up in the padrón reducido, explain in plain words.

"¿está activo el RUC 20…?", "consulta ruc 10…" or a RUC alone; without a number, the RUC the
citizen gave earlier (slot ``ruc``). The explanations of each estado and condición are the
``consulta_ruc`` article's templates. Full RUCs never go to the logs.
"""

from __future__ import annotations

import logging
import os
import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_answers import knowledge, utter_article, utter_text
from bot.knowledge.articles import Article
from bot.knowledge.padron import open_padron
from bot.knowledge.padron.records import PadronError, PadronNotLoaded, PadronStore
from bot.knowledge.tax.ruc import find_ruc, mask_ruc, validate_ruc
from bot.knowledge.text import fold

logger = logging.getLogger(__name__)
ARTICLE = "consulta_ruc"
RUC_SLOT = "ruc"
#: 8 to 13 digits, maybe with separators: what a citizen meant as a RUC, valid or not.
_NUMBER = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){7,12}(?!\d)")
#: Any other run of 3 or more digits next to the word RUC ("mi ruc es 98765"): a RUC of the
#: wrong length, told so instead of asking for a number as if none had been given.
_NEAR_RUC = re.compile(r"\bru[ck]\b\D{0,20}?(?<![\d.,])(\d{3,})(?![\d.,]\d)", re.IGNORECASE)

_padron: Optional[PadronStore] = None


def padron() -> PadronStore:
    global _padron
    if _padron is None:
        _padron = open_padron(os.environ.get("PADRON_URL") or "sqlite:///var/padron.db")
    return _padron


def use_padron(store: PadronStore) -> None:
    global _padron
    _padron = store


def explanation(article: Article, kind: str, value: Optional[str]) -> str:
    """The article's plain-words explanation of an estado or condición (padrón texts are cut
    at 20 characters: 'BAJA PROV. POR OFICI' is matched by prefix)."""
    key = re.sub(r"[^a-z0-9]+", "_", fold(value or "")).strip("_")
    candidates = sorted(
        (t for t in article.templates if t.startswith(f"{kind}_") and t != f"{kind}_otro"),
        key=len,
        reverse=True,
    )
    for template in candidates:
        suffix = template[len(kind) + 1 :]
        if key == suffix or key.startswith(suffix + "_"):
            return article.render(template)
    return article.render(f"{kind}_otro")


class ActionLookupRuc(Action):
    def name(self) -> Text:
        return "action_consulta_ruc"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        article = knowledge().current.require(ARTICLE)
        text = str(tracker.latest_message.get("text") or "")
        ruc = find_ruc(text)
        if ruc is None:
            typed = _NUMBER.search(text) or _NEAR_RUC.search(text)
            if typed is not None:
                check = validate_ruc(typed.group(typed.lastindex or 0))
                utter_text(dispatcher, article.render("invalido", problema=check.message), article)
                return []
            ruc = tracker.get_slot(RUC_SLOT)
        if not ruc:
            utter_article(dispatcher, article)
            return []
        check = validate_ruc(ruc)
        if not check.valid:
            utter_text(dispatcher, article.render("invalido", problema=check.message), article)
            return []
        try:
            entry = padron().lookup(check.ruc)
        except PadronNotLoaded:
            logger.warning("padrón lookup impossible: no padrón has been imported")
            utter_text(dispatcher, article.render("sin_padron"), article, buttons=False)
            return []
        except PadronError as exc:
            logger.warning(
                "padrón lookup of %s failed: %s", mask_ruc(check.ruc), type(exc).__name__
            )
            utter_text(dispatcher, article.render("no_disponible"), article, buttons=False)
            return []
        if entry is None:
            utter_text(dispatcher, article.render("no_figura", ruc=check.ruc), article)
        else:
            body = article.render(
                "encontrado",
                ruc=entry.ruc,
                nombre=entry.nombre or "(sin nombre en el padrón)",
                estado=entry.estado or "sin dato",
                explica_estado=explanation(article, "estado", entry.estado),
                condicion=entry.condicion or "sin dato",
                explica_condicion=explanation(article, "condicion", entry.condicion),
            )
            utter_text(dispatcher, body, article)
        return [SlotSet(RUC_SLOT, check.ruc)] if tracker.get_slot(RUC_SLOT) != check.ruc else []
