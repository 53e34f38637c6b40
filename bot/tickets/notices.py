"""Telling the citizen what happened to their ticket (a new status, a reply): on the channel
they registered it from, through the outreach (the web chat's push and history; the platforms'
outbox, within their 24-hour window, WhatsApp's approved template outside it), and by e-mail
when they gave an address and SMTP is set up.

How they were told is recorded on the ticket's entry (``notified``): ``chat`` (delivered or
queued within the window), ``template`` (outside WhatsApp's window: the approved template
invites them to write again, and the message waits in the history), ``outside_window`` (a
platform without a template, outside its window), ``failed`` (the channel is off); then
``+email`` or ``+email_failed``. An e-mail goes out in the background; a failure is recorded
and logged without the address, never raised.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

from bot.conversation.channel import BotMessage
from bot.storage.time import utcnow
from bot.tickets.catalog import Catalog
from bot.tickets.mail import Mailer, MailError
from bot.tickets.store import Ticket, TicketStore

logger = logging.getLogger(__name__)

WEBCHAT = "webchat"
#: The platforms' customer-service window.
WINDOW = dt.timedelta(hours=24)


class CitizenChannels(Protocol):
    """The outreach (``bot/conversation/outreach.py``)."""

    async def send(
        self,
        conversation_id: int,
        channel: str,
        sender_id: str,
        messages: list[BotMessage],
        agent: bool = False,
    ) -> bool: ...


class TicketNotices:
    def __init__(
        self,
        store: TicketStore,
        catalog: Catalog,
        mailer: Mailer | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._mailer = mailer
        self._clock = clock
        self._outreach: CitizenChannels | None = None
        #: Channels with an approved re-engagement template (WhatsApp, when configured).
        self._templates: frozenset[str] = frozenset()
        #: How long after the window a person may still answer, per platform (Messenger).
        self._agent_windows: dict[str, dt.timedelta] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def connect(
        self,
        outreach: CitizenChannels,
        template_channels: frozenset[str] = frozenset(),
        agent_windows: Mapping[str, dt.timedelta] | None = None,
    ) -> None:
        """The channels are built after the services: the app connects them here, with the
        platforms that have a re-engagement template and those where a person may answer
        after the 24-hour window (and for how long)."""
        self._outreach = outreach
        self._templates = template_channels
        self._agent_windows = dict(agent_windows or {})

    async def tell(self, ticket: Ticket, entry_id: int, text: str, agent: bool) -> str:
        """Send ``text`` to the ticket's citizen (``agent``: written by a person) and record
        how; the e-mail, if any, follows in the background."""
        how = await self._chat(ticket, text, agent)
        await self._store.set_notified(entry_id, how)
        self.email(ticket, entry_id, how, text)
        return how

    def email(self, ticket: Ticket, entry_id: int, how: str, text: str) -> None:
        """E-mail ``text`` when the citizen gave an address and SMTP is set up; ``how`` (the
        chat's outcome) gets ``+email`` or ``+email_failed``."""
        if ticket.contact_email and self._mailer is not None:
            self._background(self._email(ticket, entry_id, how, text))

    async def _chat(self, ticket: Ticket, text: str, agent: bool) -> str:
        outreach = self._outreach
        if outreach is None:
            return "failed"
        message: BotMessage = {"text": text}
        sent = await outreach.send(
            ticket.conversation_id, ticket.channel, ticket.sender_id, [message], agent
        )
        if not sent:
            return "failed"
        if ticket.channel == WEBCHAT:
            return "chat"
        last_in = await self._store.last_inbound_at(ticket.conversation_id)
        idle = self._clock() - last_in if last_in is not None else None
        window = WINDOW
        if agent and ticket.channel in self._agent_windows:
            window = max(window, self._agent_windows[ticket.channel])
        if idle is not None and idle <= window:
            return "chat"
        return "template" if ticket.channel in self._templates else "outside_window"

    async def _email(self, ticket: Ticket, entry_id: int, how: str, text: str) -> None:
        assert self._mailer is not None and ticket.contact_email
        catalog = self._catalog
        body = f"{text}\n\n{catalog.say('correo_pie', codigo=ticket.code)}\n"
        try:
            await self._mailer.send(
                ticket.contact_email, catalog.say("correo_asunto", codigo=ticket.code), body
            )
            outcome = f"{how}+email"
        except MailError as exc:
            logger.warning("ticket %s: e-mail not sent (%s)", ticket.code, exc)
            outcome = f"{how}+email_failed"
        await self._store.set_notified(entry_id, outcome)

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("ticket notice failed: %s", type(task.exception()).__name__)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for the e-mails under way (at shutdown; tests)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)

    async def close(self) -> None:
        await self.drain(10.0)
        for task in list(self._pending):
            task.cancel()
