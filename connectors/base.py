"""The one interface every channel adapter implements.

verify the request → parse it into normalized :class:`InboundMessage` objects → hand them to
the gateway's conversation service → render the bot's messages into the channel's payloads →
deliver them (in the HTTP response, or pushed/sent later).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

#: A bot message in Rasa's REST-channel shape: ``text``, ``buttons`` [{title, payload}],
#: ``image``, ``custom``.
BotMessage = dict[str, Any]


@dataclass(frozen=True)
class InboundMessage:
    """A citizen's message, whatever channel it came from."""

    channel: str
    sender_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


class ChannelError(Exception):
    """A request the channel refuses; ``status`` and ``code`` go into the JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Channel(ABC):
    """A messaging platform adapter.

    Channels whose platform signs its requests add a ``verify`` step before ``parse``.
    """

    name: str

    @abstractmethod
    def parse(self, payload: Any) -> list[InboundMessage]:
        """The platform's validated request body as normalized inbound messages."""

    @abstractmethod
    def render(self, messages: list[BotMessage], recipient_id: str) -> list[dict[str, Any]]:
        """The bot's messages as this channel's payloads, within the platform's limits."""
