"""Messages to a citizen that answer no request of theirs (a ticket's new status, an event's
reminder, an agent's reply): the web chat gets them pushed to its open page (and in its
history when the page is closed); the platforms' outbox sends them in order with the
conversation's other replies, within the platform's 24-hour window (outside it, the platform's
approved template invites the citizen to write again: ``bot/conversation/delivery.py``)."""

from __future__ import annotations

from bot.conversation.channel import BotMessage
from bot.conversation.delivery import Delivery
from bot.conversation.service import ConversationService

#: The channel whose messages are pushed to the citizen's open page.
WEBCHAT = "webchat"


class ChannelOutreach:
    """:class:`bot.conversation.services.Outreach` on the gateway's channels."""

    def __init__(self, conversations: ConversationService, delivery: Delivery) -> None:
        self._conversations = conversations
        self._delivery = delivery

    async def send(
        self,
        conversation_id: int,
        channel: str,
        sender_id: str,
        messages: list[BotMessage],
        agent: bool = False,
    ) -> bool:
        """Record and send (or queue) ``messages``; False when the channel is off. ``agent``:
        written by a person (the platforms let people answer longer after the window)."""
        if channel == WEBCHAT:
            await self._conversations.push(channel, sender_id, messages)
            return True
        return await self._delivery.send_later(conversation_id, channel, messages, agent)
