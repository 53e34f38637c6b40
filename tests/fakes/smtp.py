"""A local stand-in for an SMTP server: a real asyncio server on loopback, in its own thread,
that speaks enough SMTP for ``smtplib`` (EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP,
QUIT; no STARTTLS), records every message it accepts, and refuses the next ones when a test
asks (``fail_next``)."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Self

from bot.ops.processes import free_port


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    #: The credentials the client logged in with (None: no login).
    login: tuple[str, str] | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


class FakeSmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        #: Refusals to give, in order: (the command refused, "RCPT" or "DATA"; code; text).
        self.failures: deque[tuple[str, int, str]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    def fail_next(self, times: int = 1, code: int = 451, stage: str = "DATA") -> None:
        """Refuse the next ``times`` messages at ``stage`` with ``code`` (4xx: try later,
        5xx: refused)."""
        self.failures.extend([(stage, code, "fake refusal")] * times)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def start(self) -> Self:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._session, "127.0.0.1", self.port)
            )
            started.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake SMTP server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _refusal(self, stage: str) -> str | None:
        if self.failures and self.failures[0][0] == stage:
            _, code, text = self.failures.popleft()
            return f"{code} {text}"
        return None

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        sender, recipients, login = "", list[str](), None
        say("220 fake.smtp ESMTP")
        try:
            while line := await reader.readline():
                command = line.decode(errors="replace").rstrip("\r\n")
                verb = command[:4].upper()
                if verb == "EHLO":
                    for reply in ("250-fake.smtp", "250-AUTH PLAIN", "250-8BITMIME", "250 OK"):
                        say(reply)
                elif verb == "HELO" or verb in ("RSET", "NOOP"):
                    if verb == "RSET":
                        sender, recipients = "", []
                    say("250 OK")
                elif verb == "AUTH":
                    parts = command.split()
                    _, user, password = base64.b64decode(parts[2]).decode().split("\0")
                    login = (user, password)
                    say("235 Authentication successful")
                elif verb == "MAIL":
                    sender, recipients = command.partition(":")[2].strip().strip("<>"), []
                    say("250 OK")
                elif verb == "RCPT":
                    refused = self._refusal("RCPT")
                    if refused is None:
                        recipients.append(command.partition(":")[2].strip().strip("<>"))
                    say(refused or "250 OK")
                elif verb == "DATA":
                    say("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    lines = []
                    while (data := await reader.readline()) not in (b".\r\n", b""):
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    refused = self._refusal("DATA")
                    if refused is None:
                        parsed = email.message_from_bytes(
                            b"".join(lines), policy=email.policy.default
                        )
                        assert isinstance(parsed, EmailMessage)
                        self.messages.append(ReceivedMail(sender, recipients, parsed, login))
                    say(refused or "250 OK queued")
                elif verb == "QUIT":
                    say("221 Bye")
                    await writer.drain()
                    break
                else:
                    say("502 Command not implemented")
                await writer.drain()
        finally:
            writer.close()
