"""Channel adapters: each turns a platform's requests into normalized inbound messages and
renders the bot's messages back into that platform's shape (the interface:
:mod:`bot.conversation.channel`; what adapters share: :mod:`connectors.base`)."""
