"""Channel adapters: each turns a platform's requests into normalized inbound messages and
renders the bot's messages back into that platform's shape (see :mod:`connectors.base`)."""

from connectors.base import BotMessage, Channel, ChannelError, InboundMessage

__all__ = ["BotMessage", "Channel", "ChannelError", "InboundMessage"]
