"""Web chat: the page at ``/``, its JSON endpoint, its history and its push stream."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from bot.conversations import ConversationService, HistoryEntry, engine_sender_id
from bot.push import PushHub
from connectors.base import BUTTON_TITLE_KEY, BotMessage, Channel, ChannelError, InboundMessage

STATIC = Path(__file__).resolve().parent / "static"
MAX_SENDER_CHARS = 128
#: Seconds between keep-alive comments on an idle push stream.
KEEPALIVE_SECONDS = 15.0


def _check_sender(value: str) -> str:
    if not value or len(value) > MAX_SENDER_CHARS:
        raise ValueError(f"sender must have 1 to {MAX_SENDER_CHARS} characters")
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise ValueError("sender must not contain control characters")
    return value


class WebchatRequest(BaseModel):
    """A message typed (or a quick reply clicked) in the web chat."""

    sender: str = Field(description="Conversation id chosen by the page (1–128 characters)")
    message: str = Field(description="The citizen's text, or a button's payload")
    metadata: dict[str, Any] | None = Field(default=None, description="Free-form, stored")

    model_config = {"extra": "ignore", "strict": True}

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _check_sender(value)

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be empty")
        return value


class ButtonOut(BaseModel):
    title: str
    payload: str


class BotMessageOut(BaseModel):
    """One bot message, in Rasa's REST-channel shape."""

    recipient_id: str
    text: str | None = None
    buttons: list[ButtonOut] | None = None
    image: str | None = None
    custom: dict[str, Any] | None = None


class HistoryItem(BaseModel):
    direction: str = Field(description="'in' (citizen) or 'out' (assistant)")
    text: str | None = None
    buttons: list[ButtonOut] | None = None
    image: str | None = None
    custom: dict[str, Any] | None = None
    created_at: str


class WebchatChannel(Channel):
    name = "webchat"

    def __init__(self, max_message_chars: int) -> None:
        self.max_message_chars = max_message_chars

    def parse(self, payload: Any) -> list[InboundMessage]:
        request: WebchatRequest = payload
        if len(request.message) > self.max_message_chars:
            raise ChannelError(
                413,
                "message_too_long",
                f"Tu mensaje es muy largo: escribe como máximo {self.max_message_chars} "
                "caracteres.",
            )
        return [
            InboundMessage(
                channel=self.name,
                sender_id=request.sender,
                text=request.message.strip(),
                metadata=request.metadata or {},
            )
        ]

    def render(self, messages: list[BotMessage], recipient_id: str) -> list[dict[str, Any]]:
        rendered = []
        for message in messages:
            # Only well-typed parts pass: what the engine or the database hands over is not
            # trusted to have the shape the page (and the response model) expect.
            out: dict[str, Any] = {"recipient_id": recipient_id}
            for key, kind in (("text", str), ("image", str), ("custom", dict)):
                if isinstance(message.get(key), kind):
                    out[key] = message[key]
            raw_buttons = message.get("buttons")
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in (raw_buttons if isinstance(raw_buttons, list) else [])
                if isinstance(b, dict)
            ]
            if buttons:
                out["buttons"] = buttons
            rendered.append(out)
        return rendered


async def _conversations(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversations
    return service


async def _channel(request: Request) -> WebchatChannel:
    channel: WebchatChannel = request.app.state.webchat
    return channel


async def _hub(request: Request) -> PushHub:
    hub: PushHub = request.app.state.push
    return hub


# Dependencies are coroutines: FastAPI runs plain functions in a worker thread per request.
Conversations = Annotated[ConversationService, Depends(_conversations)]
Webchat = Annotated[WebchatChannel, Depends(_channel)]
Hub = Annotated[PushHub, Depends(_hub)]


async def _sender_param(sender: Annotated[str, Query(min_length=1)]) -> str:
    try:
        return _check_sender(sender)
    except ValueError as exc:
        raise ChannelError(
            422, "invalid_sender", "El identificador de conversación no es válido."
        ) from exc


Sender = Annotated[str, Depends(_sender_param)]

router = APIRouter(tags=["web chat"])


@router.post(
    "/webhooks/webchat", response_model=list[BotMessageOut], response_model_exclude_none=True
)
async def webchat_message(
    body: WebchatRequest, conversations: Conversations, channel: Webchat
) -> list[dict[str, Any]]:
    """Send a citizen's message; the answer is the bot's messages (Rasa's REST shape)."""
    [inbound] = channel.parse(body)
    replies = await conversations.handle(inbound)
    return channel.render(replies, body.sender)


@router.get("/webchat/history", response_model=list[HistoryItem], response_model_exclude_none=True)
async def webchat_history(
    sender: Sender, conversations: Conversations, channel: Webchat
) -> list[dict[str, Any]]:
    """The conversation so far, so a reloaded page shows it again."""
    entries = await conversations.history("webchat", sender)
    items: list[dict[str, Any]] = []
    for entry in entries:
        if entry.direction == "out":
            # Stored bot messages go through the same rendering as live ones.
            item = channel.render([{**(entry.payload or {}), "text": entry.text}], sender)[0]
            item.pop("recipient_id")
        else:
            item = {"text": _shown_text(entry)}
        items.append(
            {**item, "direction": entry.direction, "created_at": entry.created_at.isoformat()}
        )
    return items


def _shown_text(entry: HistoryEntry) -> str | None:
    """What the page showed: a clicked button's title rather than its payload."""
    if entry.direction == "in":
        metadata = (entry.payload or {}).get("metadata") or {}
        title = metadata.get(BUTTON_TITLE_KEY)
        if isinstance(title, str) and title:
            return title
    return entry.text


@router.get("/webchat/stream")
async def webchat_stream(
    sender: Sender, request: Request, hub: Hub, channel: Webchat
) -> StreamingResponse:
    """Server-sent events: bot messages that arrive later (e.g. an agent's reply)."""
    key = engine_sender_id(channel.name, sender)

    async def events() -> AsyncIterator[str]:
        queue = hub.subscribe(key)
        try:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                rendered = channel.render([message], sender)[0]
                yield f"event: message\ndata: {json.dumps(rendered, ensure_ascii=False)}\n\n"
        finally:
            hub.unsubscribe(key, queue)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/", include_in_schema=False)
async def webchat_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")
