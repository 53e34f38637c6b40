"""E-mail is off by default: the SMTP client exists only when SMTP_HOST and SMTP_FROM are set,
with the settings' server, login and STARTTLS."""

from __future__ import annotations

from pydantic import SecretStr

from bot.ops.settings import Settings
from bot.tickets.room import mailer_of


def test_email_is_off_unless_host_and_sender_are_set(settings: Settings) -> None:
    assert mailer_of(settings) is None
    assert mailer_of(settings.model_copy(update={"smtp_host": "smtp.test"})) is None
    configured = settings.model_copy(update={
        "smtp_host": "smtp.test", "smtp_from": "no-responder@sunat.test", "smtp_user": "bot",
        "smtp_password": SecretStr("clave"), "smtp_port": 2525,
    })  # fmt: skip
    mailer = mailer_of(configured)
    assert mailer is not None
    server = mailer.server
    assert (server.host, server.port, server.user, server.starttls) == (
        "smtp.test",
        2525,
        "bot",
        True,
    )
    assert server.password == "clave"
