"""The SMTP client: a message handed to the (fake) server with its login, in a worker thread
while the event loop goes on; refusals and an unreachable server are a MailError."""

from __future__ import annotations

import asyncio

import pytest

from bot.ops.processes import free_port
from bot.tickets.mail import Mailer, MailError, SmtpServer
from tests.fakes.smtp import FakeSmtpServer


async def test_a_message_with_login(smtp: FakeSmtpServer) -> None:
    server = SmtpServer("127.0.0.1", smtp.port, "no-responder@sunat.test", "bot", "clave-123",
                        starttls=False)  # fmt: skip
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    ticking = asyncio.create_task(tick())
    await Mailer(server).send("ana@correo.pe", "Asunto ñandú", "Cuerpo con tildes: áéíóú.")
    ticking.cancel()
    [mail] = smtp.messages
    assert mail.login == ("bot", "clave-123")
    assert (mail.subject, mail.body.strip()) == ("Asunto ñandú", "Cuerpo con tildes: áéíóú.")
    assert mail.message["Message-ID"].endswith("@sunat.test>")
    assert ticks > 0  # the loop ran while the message was sent (a blocking call: 0)


@pytest.mark.parametrize("how", ["rcpt", "data", "starttls", "down"])
async def test_failures_are_mail_errors(smtp: FakeSmtpServer, how: str) -> None:
    port = free_port() if how == "down" else smtp.port
    if how in ("rcpt", "data"):
        smtp.fail_next(1, 550 if how == "rcpt" else 451, how.upper())
    server = SmtpServer("127.0.0.1", port, "no-responder@sunat.test", starttls=how == "starttls",
                        timeout=5)  # fmt: skip
    with pytest.raises(MailError):
        await Mailer(server).send("ana@correo.pe", "Asunto", "Cuerpo")
    assert smtp.messages == []
