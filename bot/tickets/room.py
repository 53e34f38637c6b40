"""The tickets' objects, built together for the app factory (``bot/web/app.py``): the store,
the notices to citizens (connected to the outreach once the channels exist), the service in
conversations and the staff's desk."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.agents import AgentDirectory
from bot.accounts.audit import AuditLog
from bot.conversation.flows import FlowStore
from bot.ops.settings import Settings
from bot.tickets.calendar import BusinessCalendar, Holidays
from bot.tickets.catalog import load_catalog
from bot.tickets.desk import TicketDesk
from bot.tickets.form import TicketForm
from bot.tickets.mail import Mailer, SmtpServer
from bot.tickets.notices import TicketNotices
from bot.tickets.service import TicketService
from bot.tickets.status import TicketStatus
from bot.tickets.store import TicketStore

CATALOG_FILE, HOLIDAYS_FILE = "tickets.yml", "feriados.yml"


@dataclass(frozen=True)
class TicketsRoom:
    store: TicketStore
    #: Connected to the gateway's outreach once it is built (``notices.connect``).
    notices: TicketNotices
    service: TicketService
    desk: TicketDesk


def mailer_of(settings: Settings) -> Mailer | None:
    """The SMTP client, when SMTP_HOST and SMTP_FROM are set."""
    if not settings.smtp_enabled:
        return None
    assert settings.smtp_host and settings.smtp_from
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Mailer(
        SmtpServer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_user or None,
            password,
            settings.smtp_starttls,
        )
    )


def tickets_room(
    engine: AsyncEngine,
    flows: FlowStore,
    agents: AgentDirectory,
    audit: AuditLog,
    settings: Settings,
) -> TicketsRoom:
    catalog = load_catalog(settings.tickets_dir / CATALOG_FILE)
    calendar = BusinessCalendar(Holidays.load(settings.tickets_dir / HOLIDAYS_FILE))
    store = TicketStore(engine)
    notices = TicketNotices(store, catalog, mailer_of(settings))
    form = TicketForm(
        flows,
        store,
        catalog,
        calendar,
        notices,
        audit,
        settings.ticket_max_description_chars,
        settings.tickets_per_conversation_per_day,
    )
    service = TicketService(flows, form, TicketStatus(store, catalog))
    return TicketsRoom(store, notices, service, TicketDesk(store, catalog, notices, agents, audit))
