"""The community events in the chat (a :class:`bot.conversation.services.CitizenService`).

After the engine answered with the events' article (``eventos_charlas``: "¿hay charlas este
mes?"), the events citizens may sign up for are listed with a button each, and one to propose
a topic. The buttons' payloads (``bot/contract.py``) are taken before the engine:

- ``/evento_inscribir{"evento": id}`` opens the sign-up form (one question at a time, kept in
  the conversation's :class:`FlowStore` under ``event``): name → contact (e-mail or phone; on
  Messenger and WhatsApp the chat itself will do) → RUC (optional, validated) → confirm. Then
  a place is taken if one is left (``bot/community/store.py``), or the citizen is told it is
  full and offered the waiting list;
- ``/evento_cancelar{"evento": id}`` gives the place up; the first citizen waiting gets it and
  is told on their channel;
- ``/evento_proponer`` asks for a topic, kept for the admins' counts (``proposals.py``).

"cancelar" (or "salir") leaves a form; another button of the assistant leaves it too and is
answered as usual.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from bot import contract
from bot.community import wording
from bot.community.contact import SKIP, STOP, THIS_CHAT, agrees, name_of, said
from bot.community.events import Event, Place, in_lima
from bot.community.notices import EventNotices
from bot.community.proposals import ProposalStore, TopicKeys
from bot.community.store import Change, EventStore, SignUp
from bot.conversation.channel import BotMessage
from bot.conversation.flows import FlowStore
from bot.conversation.services import Turn
from bot.knowledge.contact import contact_of
from bot.knowledge.tax.ruc import mask_ruc, validate_ruc
from bot.knowledge.text import fold
from bot.storage.time import utcnow
from bot.web.deps import ROW_ID_MAX
from bot.web.rate_limits import LimitExceeded, RateLimits

logger = logging.getLogger(__name__)

#: The conversation's form of this service (``FlowStore``).
SERVICE = "event"
#: The knowledge article the events are listed after.
ARTICLE = "eventos_charlas"
#: Events listed at most (with "Proponer un tema": 10 buttons, a WhatsApp list).
LISTED = 9
TOPIC_MIN, TOPIC_MAX = 3, 300
#: Channels whose conversation reaches the citizen later by itself (not the web chat's page).
CHAT_CONTACT = ("messenger", "whatsapp", "twilio")


class CommunityEvents:
    def __init__(
        self,
        events: EventStore,
        flows: FlowStore,
        proposals: ProposalStore,
        topics: TopicKeys,
        notices: EventNotices,
        limits: tuple[RateLimits, str] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._events = events
        self._flows = flows
        self._proposals = proposals
        self._topics = topics
        self._notices = notices
        #: The counter and the limit of proposals per conversation (``"5/day"``).
        self._limits = limits
        self._clock = clock

    # --- after the engine ---------------------------------------------------------------------

    async def follow(self, turn: Turn, article: str | None) -> list[BotMessage]:
        """The events open for sign-up after the events' article (those of the month asked
        for, when the citizen said "este mes" or "el próximo mes" and there are some)."""
        if article != ARTICLE:
            return []
        now = self._clock()
        events = await self._events.open_events(now, limit=50)
        if not events:
            return [{"text": wording.NO_EVENTS, "buttons": [wording.PROPOSE_BUTTON]}]
        month = _month_asked(turn.text, now)
        lead = wording.UPCOMING
        if month is not None:
            in_month = [e for e in events if _month_of(e.starts_at) == month]
            if in_month:
                events = in_month
            else:
                said_month = "Este mes" if month == _month_of(now) else "El próximo mes"
                lead = wording.NONE_THAT_MONTH.format(mes=said_month)
        return [wording.listing(events[:LISTED], now, lead)]

    # --- before the engine --------------------------------------------------------------------

    async def take(self, turn: Turn) -> list[BotMessage] | None:
        payload = contract.gateway_payload(turn.text)
        if payload is not None:
            name, arguments = payload
            if name == contract.EVENT_SIGN_UP:
                return await self._open_sign_up(turn, arguments)
            if name == contract.EVENT_CANCEL:
                return await self._give_up(turn, arguments)
            if name == contract.EVENT_PROPOSE:
                await self._flows.put(turn.conversation_id, SERVICE, "tema", {})
                return [{"text": f"{wording.ASK_TOPIC} {wording.STOP_HINT}"}]
            return None  # another service's button
        flow = await self._flows.get(turn.conversation_id, SERVICE)
        if flow is None:
            return None
        if turn.text.startswith("/"):  # another of the assistant's buttons: the form ends
            await self._flows.end(turn.conversation_id)
            return None
        if said(turn.text) in STOP:
            await self._flows.end(turn.conversation_id)
            return [{"text": wording.STOPPED}]
        steps = {
            "nombre": self._step_nombre,
            "contacto": self._step_contacto,
            "ruc": self._step_ruc,
            "confirmar": self._step_confirmar,
            "espera": self._step_espera,
            "tema": self._step_tema,
        }
        step = steps.get(flow.step)
        if step is None:  # a step this version does not know: start again
            await self._flows.end(turn.conversation_id)
            return None
        return await step(turn, flow.data)

    async def _open_sign_up(self, turn: Turn, arguments: dict[str, Any]) -> list[BotMessage]:
        event_id = _event_id(arguments)
        event = await self._events.event(event_id) if event_id is not None else None
        refusal = await self._refusal(event, turn.conversation_id)
        if refusal is not None or event is None:
            await self._flows.end(turn.conversation_id)
            return refusal or [{"text": wording.UNKNOWN}]
        await self._flows.put(turn.conversation_id, SERVICE, "nombre", {"evento": event.id})
        text = wording.ASK_NAME.format(**wording.fields(event, self._clock()))
        return [{"text": f"{text} {wording.STOP_HINT}"}]

    async def _refusal(self, event: Event | None, conversation_id: int) -> list[BotMessage] | None:
        """Why this event cannot be signed up for (unknown, cancelled, closed, a place taken
        already); None when it can."""
        now = self._clock()
        if event is None:
            return [{"text": wording.UNKNOWN}]
        values = wording.fields(event, now)
        if event.cancelled_at is not None:
            return [{"text": wording.CANCELLED.format(**values)}]
        if event.starts_at <= now:
            return [{"text": wording.STARTED.format(**values)}]
        if event.registration_deadline < now:
            return [{"text": wording.CLOSED.format(**values)}]
        mine = await self._events.place_of(event.id, conversation_id)
        if mine is not None and mine.status == Place.REGISTERED:
            return [{"text": wording.ALREADY.format(**values),
                     "buttons": [wording.cancel_button(event)]}]  # fmt: skip
        if mine is not None and mine.status == Place.WAITING:
            return [{"text": wording.ALREADY_WAITING.format(**values),
                     "buttons": [wording.cancel_button(event, waiting=True)]}]  # fmt: skip
        return None

    # --- the sign-up's steps (the form's ``step``) ---------------------------------------------

    async def _step_nombre(self, turn: Turn, data: dict[str, Any]) -> list[BotMessage]:
        name = name_of(turn.text)
        if name is None:
            return [{"text": wording.BAD_NAME}]
        await self._flows.put(turn.conversation_id, SERVICE, "contacto", {**data, "nombre": name})
        if turn.channel in CHAT_CONTACT:
            text = wording.ASK_CONTACT_CHAT.format(nombre=name)
            return [{"text": text, "buttons": [wording.THIS_CHAT_BUTTON]}]
        return [{"text": wording.ASK_CONTACT.format(nombre=name)}]

    async def _step_contacto(self, turn: Turn, data: dict[str, Any]) -> list[BotMessage]:
        contact = contact_of(turn.text)
        if contact is None and turn.channel in CHAT_CONTACT and said(turn.text) in THIS_CHAT:
            contact = f"{turn.channel}:{turn.sender_id}"[:254]
        if contact is None:
            return [{"text": wording.BAD_CONTACT}]
        await self._flows.put(turn.conversation_id, SERVICE, "ruc", {**data, "contacto": contact})
        return [{"text": wording.ASK_RUC, "buttons": [wording.SKIP_BUTTON]}]

    async def _step_ruc(self, turn: Turn, data: dict[str, Any]) -> list[BotMessage]:
        ruc: str | None = None
        if said(turn.text) not in SKIP:
            check = validate_ruc(turn.text)
            if not check.valid:
                text = wording.BAD_RUC.format(problema=check.message)
                return [{"text": text, "buttons": [wording.SKIP_BUTTON]}]
            ruc = check.ruc
        data = {**data, "ruc": ruc}
        await self._flows.put(turn.conversation_id, SERVICE, "confirmar", data)
        return await self._confirmation(data)

    async def _confirmation(self, data: dict[str, Any]) -> list[BotMessage]:
        event = await self._events.event(int(data["evento"]))
        if event is None:
            return [{"text": wording.UNKNOWN}]
        contact = str(data["contacto"])
        text = wording.CONFIRM.format(
            nombre=data["nombre"],
            contacto=wording.THIS_CHAT if ":" in contact else contact,
            ruc=data["ruc"] or "no indicado",
            **wording.fields(event, self._clock()),
        )
        return [{"text": text, "buttons": wording.CONFIRM_BUTTONS}]

    async def _step_confirmar(self, turn: Turn, data: dict[str, Any]) -> list[BotMessage]:
        if not agrees(turn.text):
            return [{"text": wording.CONFIRM_AGAIN, "buttons": wording.CONFIRM_BUTTONS}]
        return await self._sign_up(turn, data, waiting_list=False)

    async def _step_espera(self, turn: Turn, data: dict[str, Any]) -> list[BotMessage]:
        if not agrees(turn.text):
            await self._flows.end(turn.conversation_id)
            return [{"text": wording.NOT_WAITING}]
        return await self._sign_up(turn, data, waiting_list=True)

    async def _sign_up(
        self, turn: Turn, data: dict[str, Any], waiting_list: bool
    ) -> list[BotMessage]:
        now = self._clock()
        who = (str(data["nombre"]), str(data["contacto"]), data.get("ruc"))
        outcome, event, place = await self._events.sign_up(
            int(data["evento"]), turn.conversation_id, who, now, waiting_list
        )
        if outcome == SignUp.FULL and event is not None:
            await self._flows.put(turn.conversation_id, SERVICE, "espera", data)
            text = wording.FULL.format(**wording.fields(event, now))
            return [{"text": text, "buttons": wording.WAITING_BUTTONS}]
        await self._flows.end(turn.conversation_id)
        logger.info(
            "event sign-up: event=%s conversation=%s outcome=%s ruc=%s",
            data["evento"], turn.conversation_id, outcome.value,
            mask_ruc(who[2]) if who[2] else "-",
        )  # fmt: skip
        if event is None:
            return [{"text": wording.UNKNOWN}]
        values = wording.fields(event, now)
        if outcome == SignUp.REGISTERED:
            text = wording.REGISTERED.format(nombre=who[0], **values)
            return [{"text": text, "buttons": [wording.cancel_button(event)]}]
        if outcome == SignUp.WAITING and place is not None:
            position = await self._events.waiting_position(place)
            text = wording.WAITING.format(puesto=position, **values)
            return [{"text": text, "buttons": [wording.cancel_button(event, waiting=True)]}]
        refusal = await self._refusal(event, turn.conversation_id)
        return refusal or [{"text": wording.UNKNOWN}]

    # --- giving a place up ----------------------------------------------------------------------

    async def _give_up(self, turn: Turn, arguments: dict[str, Any]) -> list[BotMessage]:
        event_id = _event_id(arguments)
        if event_id is None:
            return [{"text": wording.UNKNOWN}]
        now = self._clock()
        before = await self._events.place_of(event_id, turn.conversation_id)
        change, event, promoted = await self._events.give_up(event_id, turn.conversation_id, now)
        if event is None:
            return [{"text": wording.UNKNOWN}]
        values = wording.fields(event, now)
        if change == Change.CANCELLED:
            return [{"text": wording.CANCELLED.format(**values)}]
        if change == Change.STARTED:
            return [{"text": wording.STARTED.format(**values)}]
        if change == Change.NO_PLACE:
            return [{"text": wording.NO_PLACE.format(**values)}]
        await self._notices.promoted(event, promoted)
        if before is not None and before.status == Place.WAITING:
            return [{"text": wording.GAVE_UP_WAITING.format(**values)}]
        return [{"text": wording.GAVE_UP.format(**values)}]

    # --- proposing a topic ----------------------------------------------------------------------

    async def _step_tema(self, turn: Turn, data: dict[str, Any]) -> list[BotMessage]:
        text = " ".join(turn.text.split())
        if not TOPIC_MIN <= len(text) <= TOPIC_MAX:
            return [{"text": wording.BAD_TOPIC}]
        await self._flows.end(turn.conversation_id)
        if self._limits is not None:
            counter, limit = self._limits
            try:
                await counter.hit(limit, "event-proposals", str(turn.conversation_id))
            except LimitExceeded:
                return [{"text": wording.TOO_MANY_PROPOSALS}]
        topic = await self._topics.key(text)
        await self._proposals.add(turn.conversation_id, text, topic, self._clock())
        logger.info("topic proposed: conversation=%s", turn.conversation_id)  # not the words
        return [{"text": wording.PROPOSED.format(tema=text)}]


def _event_id(arguments: dict[str, Any]) -> int | None:
    """The event's id in a payload's arguments: a positive integer that fits a row id (on
    PostgreSQL a larger one would be an error of the database, not an unknown event)."""
    value = arguments.get("evento")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ROW_ID_MAX:
        return None
    return value


def _month_of(moment: dt.datetime) -> tuple[int, int]:
    local = in_lima(moment)
    return local.year, local.month


def _month_asked(text: str, now: dt.datetime) -> tuple[int, int] | None:
    """(year, month) in Lima when the citizen asked about this month or the next one."""
    words = fold(text)
    year, month = _month_of(now)
    if any(w in words for w in ("proximo mes", "mes que viene", "siguiente mes", "otro mes")):
        return (year + 1, 1) if month == 12 else (year, month + 1)
    if "este mes" in words or "del mes" in words or "en el mes" in words:
        return year, month
    return None
