"""What channel adapters share besides their interface (:mod:`bot.conversation.channel`,
which the conversation room owns: adapters depend on it, never the other way round)."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from bot.conversation.channel import ChannelError, PlatformChannel

_SENTENCE_END = re.compile(r"(?<=[.!?…:])\s+|\n+")


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut with "…" to at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut between sentences (or words, or anywhere
    for a single word longer than the limit); a text that fits is left as it is."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cuts = [m.end() for m in _SENTENCE_END.finditer(window) if m.start() <= limit]
        cut = max((c for c in cuts if c <= limit), default=0)
        if cut == 0:
            space = window.rfind(" ")
            cut = space if space > 0 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


ChannelType = TypeVar("ChannelType", bound=PlatformChannel)


def enabled_channel(request: Any, channel_type: type[ChannelType], label: str) -> ChannelType:
    """The app's channel of this type, or a 404 saying it is not configured."""
    channel = request.app.state.delivery.channels.get(channel_type.name)
    if not isinstance(channel, channel_type):
        raise ChannelError(404, "channel_disabled", f"El canal {label} no está configurado.")
    return channel


class NumberedOptions:
    """Buttons offered as a numbered list in the text; the number answers the very next
    message of that citizen (kept in memory: a restart forgets an open list)."""

    _NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")

    def __init__(self) -> None:
        self._offered: dict[str, list[str]] = {}

    def offer(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> str:
        options = "\n".join(
            f"{i}. {b.get('title') or b['payload']}" for i, b in enumerate(buttons, 1)
        )
        self._offered[recipient_id] = [b["payload"] for b in buttons]
        return f"{text}\n\n{options}\n\nResponde con el número de tu opción.".strip()

    def answer(self, sender_id: str, text: str) -> str:
        """The chosen option's payload when ``text`` is its number, else ``text``."""
        offered = self._offered.pop(sender_id, None)
        chosen = self._NUMBER.match(text)
        if offered and chosen and 1 <= int(chosen.group(1)) <= len(offered):
            return offered[int(chosen.group(1)) - 1]
        return text
