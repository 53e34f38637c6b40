"""E-mail to a citizen who gave an address, through the agency's SMTP server (settings
``SMTP_*``; off unless ``SMTP_HOST`` and ``SMTP_FROM`` are set). ``smtplib`` blocks, so each
message is sent in a worker thread: the event loop never waits on the mail server."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


class MailError(Exception):
    """The message could not be handed to the SMTP server."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 15.0


class Mailer:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    @property
    def server(self) -> SmtpServer:
        return self._server

    async def send(self, to: str, subject: str, body: str) -> None:
        """Hand one plain-text message to the server; :class:`MailError` when it refuses or
        cannot be reached."""
        message = EmailMessage()
        message["From"] = self._server.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._server.sender.rpartition("@")[2] or None)
        message.set_content(body)
        await asyncio.to_thread(self._send_now, message)

    def _send_now(self, message: EmailMessage) -> None:
        server = self._server
        try:
            with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
                if server.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if server.user:
                    smtp.login(server.user, server.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(type(exc).__name__) from exc
