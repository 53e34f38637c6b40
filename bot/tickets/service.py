"""Tickets in conversations, as one of the gateway's own services
(:class:`bot.conversation.services.CitizenService`), asked before the engine:

- the payload ``/solicitud_nueva`` (an article's button; ``{"tipo": "queja"}`` skips the first
  question) opens the form (``bot/tickets/form.py``);
- while the form is open, the citizen's messages are its answers. A button of the assistant's
  (an intent's payload, ``/ayuda``) leaves the form: the engine answers it; another service's
  payload goes to that service;
- a message with something like a ticket code (``SR-2026-000123``, or a mangled one) is a
  status question (``bot/tickets/status.py``).

After the engine: when it answered with the article ``estado_solicitud`` ("¿cómo va mi
queja?"), the status of the conversation's open tickets follows its answer.
"""

from __future__ import annotations

from bot import contract
from bot.conversation.channel import BotMessage
from bot.conversation.flows import FlowStore
from bot.conversation.services import Turn
from bot.tickets.codes import mentioned_code
from bot.tickets.form import SERVICE, TicketForm
from bot.tickets.status import STATUS_ARTICLE, TicketStatus


class TicketService:
    def __init__(self, flows: FlowStore, form: TicketForm, status: TicketStatus) -> None:
        self._flows = flows
        self._form = form
        self._status = status

    async def take(self, turn: Turn) -> list[BotMessage] | None:
        payload = contract.gateway_payload(turn.text.strip())
        if payload is not None and payload[0] == contract.TICKET_NEW:
            kind = payload[1].get("tipo")
            return await self._form.start(turn, kind if isinstance(kind, str) else None)
        flow = await self._flows.get(turn.conversation_id, SERVICE)
        if flow is not None:
            if payload is not None:
                return None  # another service's button
            if turn.text.startswith("/"):
                await self._flows.end(turn.conversation_id)
                return None  # one of the assistant's buttons: the engine answers it
            return await self._form.answer(turn, flow)
        mention = mentioned_code(turn.text)
        if mention is not None:
            return await self._status.by_code(turn, mention)
        return None

    async def follow(self, turn: Turn, article: str | None) -> list[BotMessage]:
        if article == STATUS_ARTICLE:
            return await self._status.of_conversation(turn)
        return []
