"""Services the gateway runs itself inside a conversation: a ticket taken in a short form, an
event sign-up, a satisfaction survey. Rasa owns language (it tells which topic a message is
about); these own the state of what the citizen is filling in and the records it makes.

The conversation service asks each :class:`CitizenService` in turn, in the order the app gives:

1. before the engine (:meth:`CitizenService.take`): a form is open in this conversation, a
   service's button was pressed, a ticket code was written — the service answers, the engine
   never sees the message;
2. after the engine (:meth:`CitizenService.follow`): the engine answered with an article (the
   events' article, the goodbye) and the service adds to the answer (the upcoming events,
   the survey).

Neither step runs while people own the conversation (a handoff): the desk has it.

Messages that do not answer a request (a ticket's new status, an event's reminder) go out
through :class:`Outreach`, which the app builds on the channels (the web chat's push, the
platforms' outbox with their 24-hour window and templates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.conversation.channel import BotMessage


@dataclass(frozen=True)
class Turn:
    """A citizen's message, already stored, as a service sees it."""

    conversation_id: int
    message_id: int
    channel: str
    sender_id: str
    text: str


class CitizenService(Protocol):
    """One service the gateway runs in conversations (tickets, events, the survey)."""

    async def take(self, turn: Turn) -> list[BotMessage] | None:
        """The replies when this service takes the message (its form is open here, one of its
        payloads was sent, …); None to leave it to the next service and then the engine."""

    async def follow(self, turn: Turn, article: str | None) -> list[BotMessage]:
        """After the engine answered ``turn`` (from ``article``, the id of the knowledge
        article it answered with, or None): messages to send after the engine's ([] when
        none)."""


class Outreach(Protocol):
    """Messages to a citizen outside a request: their channel decides how (see the module)."""

    async def send(
        self, conversation_id: int, channel: str, sender_id: str, messages: list[BotMessage]
    ) -> bool:
        """Record and send (or queue) ``messages``; False when the channel is off (the
        messages are recorded as failed)."""
