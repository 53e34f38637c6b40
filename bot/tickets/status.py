"""What a citizen is told about their tickets: one ticket asked by its code, or every open one
of the conversation when they ask how their case is going ("¿cómo va mi queja?", the engine's
article ``estado_solicitud``).

A code is looked up only among the tickets registered in the same conversation: a code of
another conversation gets the same answer as an unknown one, so nobody learns anything about
another citizen's ticket by guessing codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot import contract
from bot.conversation.channel import BotMessage
from bot.conversation.services import Turn
from bot.storage.time import utcnow
from bot.tickets.calendar import long_date, short_date
from bot.tickets.catalog import ANSWERED, CLOSED, Catalog
from bot.tickets.codes import Mention
from bot.tickets.store import Ticket, TicketStore

#: The engine's article for "¿cómo va mi queja?".
STATUS_ARTICLE = "estado_solicitud"
#: How much of the last reply a status answer quotes.
QUOTED_CHARS = 500
#: Open tickets listed at most.
LISTED = 5


class TicketStatus:
    def __init__(
        self,
        store: TicketStore,
        catalog: Catalog,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._clock = clock

    async def by_code(self, turn: Turn, mention: Mention) -> list[BotMessage]:
        """The answer to a message that names a code (well formed or not)."""
        say = self._catalog.say
        if mention.code is None:
            return [{"text": say("codigo_mal_escrito", texto=mention.written)}]
        ticket = await self._store.by_code(mention.code, turn.conversation_id)
        if ticket is None:
            return [{"text": say("codigo_no_encontrado", codigo=mention.code)}]
        text = say(
            "estado",
            codigo=ticket.code,
            tipo=self._catalog.kind(ticket.kind).label,
            estado=self._catalog.status_label(ticket.status),
            creada=long_date(ticket.created_at),
            plazo=self._deadline(ticket),
        )
        reply = await self._store.last_reply(ticket.id)
        if reply is not None and reply.body:
            quoted = reply.body
            if len(quoted) > QUOTED_CHARS:
                quoted = quoted[: QUOTED_CHARS - 1].rstrip() + "…"
            text += "\n" + say("ultima_respuesta", fecha=short_date(reply.created_at), texto=quoted)
        return [{"text": text}]

    async def of_conversation(self, turn: Turn) -> list[BotMessage]:
        """The conversation's tickets that are not closed, or how to open one."""
        say = self._catalog.say
        tickets = [
            t for t in await self._store.of_conversation(turn.conversation_id, 20)
            if t.status != CLOSED
        ][:LISTED]  # fmt: skip
        if not tickets:
            new = self._catalog.buttons["nueva"]
            return [
                {
                    "text": say("sin_solicitudes"),
                    "buttons": [{"title": new, "payload": contract.TICKET_NEW}],
                }
            ]
        lines = [say("tus_solicitudes")] + [
            say(
                "linea_solicitud",
                codigo=t.code,
                tipo=self._catalog.kind(t.kind).label,
                estado=self._catalog.status_label(t.status),
                plazo=self._deadline(t),
            )
            for t in tickets
        ]
        return [{"text": "\n".join(lines)}]

    def _deadline(self, ticket: Ticket) -> str:
        say = self._catalog.say
        if ticket.status == ANSWERED and ticket.answered_at is not None:
            return say("estado_respondida", fecha=long_date(ticket.answered_at))
        if ticket.status == CLOSED and ticket.closed_at is not None:
            return say("estado_cerrada", fecha=long_date(ticket.closed_at))
        if ticket.overdue(self._clock()):
            return say("estado_vencido", fecha=long_date(ticket.due_at))
        return say("estado_plazo", fecha=long_date(ticket.due_at))
