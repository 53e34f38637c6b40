"""Staff working tickets: assign, internal notes, replies to the citizen, status changes
(``recibido`` → ``en_proceso`` → ``respondido`` → ``cerrado``; see :data:`TRANSITIONS`).

Who may do what: any agent reads every ticket and writes notes; replying and changing the
status is for the agent the ticket is assigned to (acting on an unassigned ticket assigns it
to the agent first), or a supervisor. An agent assigns a ticket to themselves when nobody has
it, and hands over their own; supervisors reassign any.

Every reply and status change reaches the citizen (``bot/tickets/notices.py``) and every
action is in the audit log (``bot/accounts/audit.py``), with the ticket's code, never its
contents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.accounts.agents import AgentDirectory, AgentInfo, Role
from bot.accounts.audit import AuditLog
from bot.storage.time import utcnow
from bot.tickets.catalog import ANSWERED, CLOSED, IN_PROGRESS, RECEIVED, Catalog
from bot.tickets.notices import TicketNotices
from bot.tickets.store import NOTE, REPLY, Ticket, TicketStore

#: Where each status may go.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    RECEIVED: (IN_PROGRESS, ANSWERED, CLOSED),
    IN_PROGRESS: (ANSWERED, CLOSED),
    ANSWERED: (IN_PROGRESS, CLOSED),
    CLOSED: (),
}


class TicketRefused(Exception):
    """A refused action: HTTP ``status``, a ``code`` for programs, a Spanish ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class TicketDesk:
    def __init__(
        self,
        store: TicketStore,
        catalog: Catalog,
        notices: TicketNotices,
        agents: AgentDirectory,
        audit: AuditLog,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self._notices = notices
        self._agents = agents
        self._audit = audit
        self._clock = clock

    async def ticket(self, ticket_id: int) -> Ticket:
        found = await self.store.get(ticket_id)
        if found is None:
            raise TicketRefused(404, "not_found", "No existe esa solicitud.")
        return found

    async def assign(self, ticket_id: int, agent: AgentInfo, to: int | None) -> Ticket:
        """Give the ticket to the agent ``to`` (None: to nobody)."""
        ticket = await self.ticket(ticket_id)
        if to is not None:
            target = await self._agents.get(to)
            if target is None or not target.active:
                raise TicketRefused(422, "unknown_agent", "No existe ese asesor o está inactivo.")
        if not agent.may(Role.SUPERVISOR) and ticket.assigned_to not in (None, agent.id):
            raise self._held_by_other(ticket)
        if not agent.may(Role.SUPERVISOR) and ticket.assigned_to is None and to != agent.id:
            raise TicketRefused(
                403, "forbidden", "Puedes tomar una solicitud libre para ti; asignarla a otra "
                "persona lo hace un supervisor.",
            )  # fmt: skip
        if ticket.assigned_to == to:
            return ticket
        if not await self.store.assign(ticket.id, to, ticket.assigned_to, self._clock(), agent.id):
            raise self._changed()
        await self._audit.record(agent.username, "ticket_assigned", actor_id=agent.id,
                                 ticket=ticket.code, to=to)  # fmt: skip
        return await self.ticket(ticket_id)

    async def note(self, ticket_id: int, agent: AgentInfo, text: str) -> Ticket:
        """An internal note, never shown to the citizen."""
        ticket = await self.ticket(ticket_id)
        await self.store.record(ticket.id, NOTE, self._clock(), agent.id, text)
        await self._audit.record(agent.username, "ticket_note", actor_id=agent.id,
                                 ticket=ticket.code)  # fmt: skip
        return ticket

    async def reply(self, ticket_id: int, agent: AgentInfo, text: str, answered: bool) -> str:
        """Answer the citizen (``answered``: the ticket becomes «Respondida» with it); how
        they were told."""
        ticket = await self._workable(ticket_id, agent)
        if ticket.status == CLOSED:
            raise TicketRefused(
                409, "closed", "La solicitud está cerrada: ya no se le puede responder."
            )
        now = self._clock()
        kind = self.catalog.kind(ticket.kind)
        message = self.catalog.say("aviso_respuesta", codigo=ticket.code, tipo=kind.label,
                                   texto=text)  # fmt: skip
        if answered and ticket.status != ANSWERED:
            entry_id = await self.store.change_status(
                ticket.id, ticket.status, ANSWERED, now, agent.id, REPLY, text
            )
            if entry_id is None:
                raise self._changed()
            message += "\n" + self.catalog.say("aviso_respondida")
        else:
            entry_id = await self.store.record(ticket.id, REPLY, now, agent.id, text)
        await self._audit.record(agent.username, "ticket_reply", actor_id=agent.id,
                                 ticket=ticket.code, answered=answered)  # fmt: skip
        return await self._notices.tell(ticket, entry_id, message, agent=True)

    async def set_status(self, ticket_id: int, agent: AgentInfo, status: str) -> str:
        """Move the ticket to ``status`` and tell the citizen; how they were told."""
        ticket = await self._workable(ticket_id, agent)
        label = self.catalog.status_label
        if status == ticket.status:
            raise TicketRefused(409, "same_status", f"La solicitud ya está «{label(status)}».")
        if status not in TRANSITIONS.get(ticket.status, ()):
            raise TicketRefused(
                409, "transition",
                f"Una solicitud «{label(ticket.status)}» no puede pasar a «{label(status)}».",
            )  # fmt: skip
        if status == ANSWERED and await self.store.last_reply(ticket.id) is None:
            raise TicketRefused(
                409, "no_reply", "Primero responde al ciudadano: una solicitud queda "
                "«Respondida» con una respuesta.",
            )  # fmt: skip
        entry_id = await self.store.change_status(
            ticket.id, ticket.status, status, self._clock(), agent.id
        )
        if entry_id is None:
            raise self._changed()
        await self._audit.record(agent.username, "ticket_status", actor_id=agent.id,
                                 ticket=ticket.code, status=status)  # fmt: skip
        kind = self.catalog.kind(ticket.kind)
        message = self.catalog.say("aviso_estado", codigo=ticket.code, tipo=kind.label,
                                   estado=label(status))  # fmt: skip
        return await self._notices.tell(ticket, entry_id, message, agent=False)

    async def _workable(self, ticket_id: int, agent: AgentInfo) -> Ticket:
        """The ticket, if ``agent`` may reply and change it (an unassigned one is assigned to
        them first)."""
        ticket = await self.ticket(ticket_id)
        if ticket.assigned_to == agent.id or agent.may(Role.SUPERVISOR):
            return ticket
        if ticket.assigned_to is not None:
            raise self._held_by_other(ticket)
        if not await self.store.assign(ticket.id, agent.id, None, self._clock(), agent.id):
            raise self._changed()
        await self._audit.record(agent.username, "ticket_assigned", actor_id=agent.id,
                                 ticket=ticket.code, to=agent.id)  # fmt: skip
        return await self.ticket(ticket_id)

    @staticmethod
    def _held_by_other(ticket: Ticket) -> TicketRefused:
        who = ticket.assigned_name or "otra persona"
        return TicketRefused(
            403, "assigned_to_other",
            f"Esta solicitud la atiende {who}; pide a un supervisor que la reasigne.",
        )  # fmt: skip

    @staticmethod
    def _changed() -> TicketRefused:
        return TicketRefused(
            409, "changed", "La solicitud cambió mientras tanto: vuelve a abrirla."
        )
