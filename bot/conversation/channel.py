"""The one interface every channel adapter implements, and the messages it carries.

verify the request → parse it into normalized :class:`InboundMessage` objects → hand them to
the conversation service → render the bot's messages into the channel's payloads →
deliver them (in the HTTP response, or pushed/sent later).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: A bot message in Rasa's REST-channel shape: ``text``, ``buttons`` [{title, payload}],
#: ``image``, ``custom``.
BotMessage = dict[str, Any]
#: Metadata key set when a message is a pressed button's payload: the button's title.
BUTTON_TITLE_KEY = "button_title"
#: A text that is not only blanks, as an OpenAPI ``pattern``: some character that ``str.strip``
#: keeps (it also strips \x1c-\x1f, which a schema's ``\s`` does not match).
NOT_BLANK_PATTERN = r"[^\s\x1c-\x1f]"


def text_and_buttons(message: BotMessage) -> tuple[str, list[dict[str, Any]]]:
    """A bot message's text ("" if none) and its well-formed buttons (with a string payload):
    what every channel renders, whatever the engine handed over."""
    text = message.get("text")
    buttons = [
        b for b in message.get("buttons") or []
        if isinstance(b, dict) and isinstance(b.get("payload"), str)
    ]  # fmt: skip
    return (text if isinstance(text, str) else ""), buttons


@dataclass(frozen=True)
class InboundMessage:
    """A citizen's message, whatever channel it came from."""

    channel: str
    sender_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The platform's id of the message ("messenger:m_…"): redeliveries are recognised by it.
    platform_id: str | None = None
    #: What the assistant can't read (an image, a voice note, a location…): answered politely.
    unsupported: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """The platform delivered or the citizen read messages we sent."""

    channel: str
    sender_id: str
    status: str  # "delivered" | "read" | "failed"
    moment: dt.datetime
    platform_ids: tuple[str, ...] = ()
    error: str | None = None


class SendError(Exception):
    """The platform refused a send. ``retryable``: try again later (5xx, rate limits)."""

    def __init__(self, reason: str, retryable: bool, outside_window: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        #: The platform says its 24-hour window is closed (nothing more to try).
        self.outside_window = outside_window


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


class PlatformChannel(Channel):
    """A channel whose platform calls a webhook and takes the answers through its own API:
    verify the request → parse → (the gateway answers in the background) → render → send."""

    #: How long after the citizen's last message a human agent may still write (beyond the
    #: 24-hour window). None: agents follow the same window as the assistant.
    human_agent_window: dt.timedelta | None = None

    @abstractmethod
    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> None:
        """Raise :class:`ChannelError` (403) unless the platform signed this request (``url``
        is the public URL the platform called)."""

    def statuses(self, payload: Any) -> list[StatusUpdate]:
        """Delivery and read receipts in the request."""
        return []

    @abstractmethod
    async def send(self, recipient_id: str, message: BotMessage, within_window: bool) -> str:
        """Deliver one bot message; return the platform's id of it. Raise :class:`SendError`."""

    async def reengage(self, recipient_id: str) -> str | None:
        """Outside the platform's 24-hour window: send its pre-approved invitation to write
        again, if the platform has one and it is configured; its id, or None."""
        return None

    async def acknowledge(self, inbound: InboundMessage) -> None:
        """Tell the citizen their message was seen and is being answered (best effort)."""
