"""The short form that takes a ticket in a conversation, one question at a time, kept in the
conversation's open form (``bot/conversation/flows.py``, service ``ticket``):

1. ``tipo``: queja, reclamo, sugerencia or información pública (buttons; typed words work);
2. ``descripcion``: what happened (at most ``max_chars``; a longer text is refused with a
   Spanish message and nothing is kept);
3. ``documento``: a DNI (8 digits) or RUC (11, with its check digit), or «Omitir»;
4. ``contacto``: an e-mail or a mobile number. On the web chat one is required (the page may
   be closed when the answer comes); on WhatsApp and Messenger the chat itself is how we
   answer, so «Omitir» is offered;
5. ``confirmar``: the summary, with «Confirmar», «Corregir» (back to one answer, then to the
   summary again) and «Cancelar».

«cancelar» at any step ends the form and nothing is stored. A conversation registers at most
``per_day`` tickets a day (Lima time); over it, a Spanish refusal and no form.

The citizen's words (the description, the document, the contact) are never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.accounts.audit import AuditLog
from bot.conversation.channel import BotMessage
from bot.conversation.flows import Flow, FlowStore
from bot.conversation.services import Turn
from bot.knowledge.tax.ruc import validate_ruc
from bot.knowledge.text import fold
from bot.storage.time import utcnow
from bot.tickets.calendar import LIMA, BusinessCalendar, lima_date
from bot.tickets.catalog import Catalog
from bot.tickets.notices import WEBCHAT, TicketNotices
from bot.tickets.store import NewTicket, TicketStore

logger = logging.getLogger(__name__)

#: The form's name in the conversation's open form.
SERVICE = "ticket"
KIND, DESCRIPTION, DOCUMENT, CONTACT, CONFIRM, FIX = (
    "tipo", "descripcion", "documento", "contacto", "confirmar", "corregir",
)  # fmt: skip
#: A description shorter than this asks for more.
MIN_DESCRIPTION_CHARS = 10
#: How much of the description the summary shows.
SUMMARY_CHARS = 300
_PHONE = re.compile(r"^(?:\+?51)?(9\d{8})$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-z]{2,24}$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s.\-()]")
_SKIP = ("omitir", "omito", "no", "ninguno", "no gracias", "prefiero no")


def _said(text: str) -> str:
    """The answer folded (lower case, no accents) without the punctuation around it."""
    return fold(text).strip(" .,;:!¡?¿«»\"'")


def is_cancel(text: str) -> bool:
    return _said(text) in ("cancelar", "cancela", "cancelo", "anular", "salir")


def contact_of(text: str) -> tuple[str | None, str | None]:
    """``(email, phone)`` as typed by the citizen (one of them), or ``(None, None)``."""
    cleaned = text.strip()
    if len(cleaned) <= 254 and _EMAIL.match(cleaned):
        return cleaned.lower(), None
    match = _PHONE.match(_SEPARATORS.sub("", cleaned))
    return (None, match.group(1)) if match else (None, None)


class TicketForm:
    def __init__(
        self,
        flows: FlowStore,
        store: TicketStore,
        catalog: Catalog,
        calendar: BusinessCalendar,
        notices: TicketNotices,
        audit: AuditLog | None = None,
        max_chars: int = 2000,
        per_day: int = 3,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._flows = flows
        self._store = store
        self._catalog = catalog
        self._calendar = calendar
        self._notices = notices
        self._audit = audit
        self._max_chars = max_chars
        self._per_day = per_day
        self._clock = clock

    # --- the steps ------------------------------------------------------------------------------

    async def start(self, turn: Turn, kind: str | None = None) -> list[BotMessage]:
        """Open the form (at the description when ``kind`` is a known kind)."""
        refusal = await self._over_limit(turn.conversation_id)
        if refusal is not None:
            return refusal
        if kind in self._catalog.kinds:
            return await self._go(turn, DESCRIPTION, {"kind": kind})
        return await self._go(turn, KIND, {})

    async def answer(self, turn: Turn, flow: Flow) -> list[BotMessage]:
        """The citizen's answer to the step ``flow`` is at."""
        if is_cancel(turn.text):
            await self._flows.end(turn.conversation_id)
            return [self._text("cancelado")]
        data = dict(flow.data)
        text = turn.text.strip()
        if flow.step == KIND:
            kind = self._kind_of(text)
            if kind is None:
                return [self._ask(turn, KIND, data, "tipo_no_entendido")]
            data["kind"] = kind
            return await self._next(turn, DESCRIPTION, data)
        if flow.step == DESCRIPTION:
            if len(text) > self._max_chars:
                return [self._text("descripcion_larga", largo=len(text), maximo=self._max_chars)]
            if len(text) < MIN_DESCRIPTION_CHARS:
                return [self._text("descripcion_corta", minimo=MIN_DESCRIPTION_CHARS)]
            data["description"] = text
            return await self._next(turn, DOCUMENT, data)
        if flow.step == DOCUMENT:
            return await self._document(turn, text, data)
        if flow.step == CONTACT:
            return await self._contact(turn, text, data)
        if flow.step == CONFIRM:
            said = _said(text)
            if said.startswith("confirm") or said in ("si", "ok", "registrar", "registrala"):
                return await self._register(turn, data)
            if said.startswith("corregir"):
                return await self._go(turn, FIX, data)
            return [self._text("elige_opcion"), self._summary(turn, data)]
        if flow.step == FIX:
            return await self._fix(turn, _said(text), data)
        await self._flows.end(turn.conversation_id)  # a step of an older version: start afresh
        return await self.start(turn)

    async def _document(self, turn: Turn, text: str, data: dict[str, Any]) -> list[BotMessage]:
        if _said(text) in _SKIP or _said(text) == fold(self._catalog.buttons["omitir"]):
            data["document"] = None
            return await self._next(turn, CONTACT, data)
        digits = _SEPARATORS.sub("", text)
        problem = ""
        if digits.isascii() and digits.isdigit():
            if len(digits) == 8:
                data["document"] = digits
                return await self._next(turn, CONTACT, data)
            if len(digits) == 11:
                check = validate_ruc(digits)
                if check.valid:
                    data["document"] = check.ruc
                    return await self._next(turn, CONTACT, data)
                problem = check.message
            else:
                problem = self._catalog.say("dni_invalido", largo=len(digits))
        return [self._ask(turn, DOCUMENT, data, "documento_invalido", problema=problem)]

    async def _contact(self, turn: Turn, text: str, data: dict[str, Any]) -> list[BotMessage]:
        if _said(text) in _SKIP or _said(text) == fold(self._catalog.buttons["omitir"]):
            if turn.channel == WEBCHAT:
                return [self._text("contacto_requerido")]
            data["email"], data["phone"] = None, None
            return await self._next(turn, CONFIRM, data)
        email, phone = contact_of(text)
        if email is None and phone is None:
            return [self._ask(turn, CONTACT, data, "contacto_invalido")]
        data["email"], data["phone"] = email, phone
        return await self._next(turn, CONFIRM, data)

    async def _fix(self, turn: Turn, said: str, data: dict[str, Any]) -> list[BotMessage]:
        buttons = self._catalog.buttons
        steps = {
            fold(buttons["corregir_tipo"]): KIND,
            fold(buttons["corregir_detalle"]): DESCRIPTION,
            fold(buttons["corregir_documento"]): DOCUMENT,
            fold(buttons["corregir_contacto"]): CONTACT,
        }
        step = steps.get(said)
        if step is None:
            return [self._ask(turn, FIX, data, "elige_opcion")]
        return await self._go(turn, step, {**data, "fixing": True})

    async def _next(self, turn: Turn, step: str, data: dict[str, Any]) -> list[BotMessage]:
        """On to ``step``, or back to the summary when correcting one answer."""
        return await self._go(turn, CONFIRM if data.get("fixing") else step, data)

    async def _go(self, turn: Turn, step: str, data: dict[str, Any]) -> list[BotMessage]:
        await self._flows.put(turn.conversation_id, SERVICE, step, data)
        if step == CONFIRM:
            return [self._summary(turn, data)]
        if step == FIX:
            return [self._ask(turn, FIX, data, "que_corregir")]
        return [self._ask(turn, step, data)]

    # --- registering ----------------------------------------------------------------------------

    async def _register(self, turn: Turn, data: dict[str, Any]) -> list[BotMessage]:
        refusal = await self._over_limit(turn.conversation_id)
        if refusal is not None:
            await self._flows.end(turn.conversation_id)
            return refusal
        kind = self._catalog.kind(str(data["kind"]))
        now = self._clock()
        due_at = self._calendar.due(now, kind.days, kind.business_days)
        new = NewTicket(
            turn.conversation_id, turn.channel, kind.name, str(data["description"]),
            data.get("document"), data.get("email"), data.get("phone"),
        )  # fmt: skip
        try:
            ticket, entry_id = await self._store.create(new, now, due_at)
        except SQLAlchemyError as exc:
            logger.error("ticket not registered: %s", type(exc).__name__)
            return [self._text("no_guardado")]
        await self._flows.end(turn.conversation_id)
        logger.info(
            "ticket registered: %s kind=%s channel=%s conversation=%s",
            ticket.code, kind.name, turn.channel, turn.conversation_id,
        )  # fmt: skip
        text = self._catalog.say(
            "registrado",
            tipo=kind.label,
            codigo=ticket.code,
            plazo=self._catalog.deadline(kind, due_at),
            siguiente=kind.next,
        )
        await self._store.set_notified(entry_id, "chat")
        self._notices.email(ticket, entry_id, "chat", text)
        if self._audit is not None:
            await self._audit.record("ciudadano", "ticket_registered", ticket=ticket.code,
                                     kind=kind.name, channel=turn.channel)  # fmt: skip
        return [{"text": text}]

    async def _over_limit(self, conversation_id: int) -> list[BotMessage] | None:
        today = dt.datetime.combine(lima_date(self._clock()), dt.time(), LIMA)
        count = await self._store.count_since(conversation_id, today.astimezone(dt.UTC))
        if count >= self._per_day:
            return [self._text("limite", cantidad=count)]
        return None

    # --- wording --------------------------------------------------------------------------------

    def _kind_of(self, text: str) -> str | None:
        said = _said(text)
        kinds = list(self._catalog.kinds.values())
        if said.isdigit() and 1 <= int(said) <= len(kinds):
            return kinds[int(said) - 1].name
        exact = [k.name for k in kinds if said in (fold(k.label), k.name.replace("_", " "))]
        if exact:
            return exact[0]
        stems = [k.name for k in kinds if fold(k.label).split()[0][:6] in said]
        return stems[0] if len(stems) == 1 else None

    def _text(self, message: str, **values: object) -> BotMessage:
        return {"text": self._catalog.say(message, **values)}

    def _buttons(self, *names: str) -> list[dict[str, str]]:
        titles = [self._catalog.buttons[name] for name in names]
        return [{"title": title, "payload": title} for title in titles]

    def _ask(
        self,
        turn: Turn,
        step: str,
        data: dict[str, Any],
        message: str | None = None,
        **values: object,
    ) -> BotMessage:
        """The step's question (after ``message`` when the last answer was not right)."""
        catalog = self._catalog
        if step == KIND:
            kinds = [{"title": k.label, "payload": k.label} for k in catalog.kinds.values()]
            return {"text": catalog.say(message or "inicio", **values), "buttons": kinds}
        if step == DESCRIPTION:
            kind = catalog.kind(str(data["kind"]))
            return self._text("pide_descripcion", pregunta=kind.ask, maximo=self._max_chars)
        if step == DOCUMENT:
            reply = self._text(message or "pide_documento", **values)
            return {**reply, "buttons": self._buttons("omitir")}
        if step == CONTACT:
            if message is not None:
                return self._text(message, **values)
            if turn.channel == WEBCHAT:
                return self._text("pide_contacto_web")
            return {**self._text("pide_contacto_chat"), "buttons": self._buttons("omitir")}
        return {
            "text": catalog.say(message or "que_corregir", **values),
            "buttons": self._buttons(
                "corregir_tipo", "corregir_detalle", "corregir_documento", "corregir_contacto"
            ),
        }

    def _summary(self, turn: Turn, data: dict[str, Any]) -> BotMessage:
        catalog = self._catalog
        description = str(data["description"])
        if len(description) > SUMMARY_CHARS:
            description = description[: SUMMARY_CHARS - 1].rstrip() + "…"
        text = catalog.say(
            "resumen",
            tipo=catalog.kind(str(data["kind"])).label,
            detalle=description,
            documento=data.get("document") or catalog.say("sin_dato"),
            contacto=data.get("email") or data.get("phone") or catalog.say("sin_dato"),
        )
        return {"text": text, "buttons": self._buttons("confirmar", "corregir", "cancelar")}
