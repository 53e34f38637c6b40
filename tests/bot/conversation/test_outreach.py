"""Messages outside a request go to the web chat's page, or to a platform's outbox."""

from __future__ import annotations

from typing import Any, cast

from bot.conversation.channel import BotMessage
from bot.conversation.delivery import Delivery
from bot.conversation.outreach import ChannelOutreach
from bot.conversation.service import ConversationService


class Conversations:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, str, list[BotMessage]]] = []

    async def push(self, channel: str, sender_id: str, messages: list[BotMessage]) -> int:
        self.pushed.append((channel, sender_id, messages))
        return 1


class Outbox:
    def __init__(self, channels: set[str]) -> None:
        self.channels = channels
        self.queued: list[tuple[int, str, list[BotMessage], bool]] = []

    async def send_later(
        self, conversation_id: int, channel: str, messages: list[BotMessage], agent: bool
    ) -> bool:
        self.queued.append((conversation_id, channel, messages, agent))
        return channel in self.channels


def outreach(conversations: Conversations, outbox: Outbox) -> ChannelOutreach:
    return ChannelOutreach(
        cast(ConversationService, cast(Any, conversations)), cast(Delivery, cast(Any, outbox))
    )


async def test_the_web_chat_gets_them_pushed_and_platforms_queued() -> None:
    conversations, outbox = Conversations(), Outbox({"whatsapp"})
    sender = outreach(conversations, outbox)
    message: BotMessage = {"text": "Tu solicitud SR-2026-000001 está en proceso."}
    assert await sender.send(7, "webchat", "ana", [message])
    assert conversations.pushed == [("webchat", "ana", [message])]
    assert outbox.queued == []
    assert await sender.send(8, "whatsapp", "51999", [message], agent=True)
    assert outbox.queued == [(8, "whatsapp", [message], True)]
    # A channel that is off: recorded as failed by the outbox, and said.
    assert not await sender.send(9, "messenger", "psid", [message])
    assert conversations.pushed == [("webchat", "ana", [message])]
