"""Web chat: the page at ``/``, its sessions, its JSON endpoint, its history and push stream.

Who may call what (:mod:`connectors.webchat_access`): the page's citizen with the session
cookie ``POST /webchat/session`` gave them, or an integrator's server with ``X-Api-Key`` naming
the conversation with ``sender``. Posts and streams are limited per session and per address;
over a limit the answer is a 429 and nothing is stored.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator
from starlette.types import Receive, Scope, Send

from bot.conversation.channel import (
    BUTTON_TITLE_KEY,
    NOT_BLANK_PATTERN,
    BotMessage,
    Channel,
    ChannelError,
    InboundMessage,
)
from bot.conversation.push import RESYNC, PushHub
from bot.conversation.service import ConversationService, HistoryEntry, engine_sender_id
from bot.ops.settings import Settings
from bot.web.client_address import client_address
from bot.web.rate_limits import Limits
from connectors.webchat_access import (
    API_KEY_HEADER,
    COOKIE,
    NO_SESSION,
    SENDER_HEADER,
    WebchatCaller,
    clear_session_cookie,
    identify,
    refuse_cross_site,
    sessions_of,
    set_session_cookie,
)

STATIC = Path(__file__).resolve().parent / "static"
#: Seconds between keep-alive comments on an idle push stream (the session is checked then).
KEEPALIVE_SECONDS = 15.0
TOO_FAST = "Estás enviando mensajes muy rápido. Espera {seconds} segundos e intenta de nuevo."
TOO_MANY_STREAMS = (
    "Tienes demasiadas ventanas del asistente abiertas. Cierra alguna e intenta en {seconds} "
    "segundos."
)
TOO_MANY_SESSIONS = (
    "Se iniciaron demasiadas conversaciones desde tu conexión. Intenta de nuevo en {seconds} "
    "segundos."
)


class WebchatRequest(BaseModel):
    """A message typed (or a quick reply clicked) in the web chat."""

    sender: str | None = Field(
        default=None,
        description=f"The conversation, for integrators calling with {API_KEY_HEADER} "
        "(1–128 characters); ignored without a key (the session cookie decides)",
    )
    message: str = Field(
        # Some character other than blanks: what the validator below refuses, in the document.
        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
        description="The citizen's text, or a button's payload (up to the deployment's "
        "WEBCHAT_MAX_MESSAGE_CHARS, 4096 by default: longer is a 413)",
    )
    metadata: dict[str, Any] | None = Field(default=None, description="Free-form, stored")

    model_config = {"extra": "ignore", "strict": True}

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be empty")
        return value


class SessionOut(BaseModel):
    idle_minutes: float = Field(description="The session ends after this long without activity")


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
        if request.sender is None:  # resolved from the caller before parsing
            raise ChannelError(401, "session_required", NO_SESSION)
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


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Dependencies are coroutines: FastAPI runs plain functions in a worker thread per request.
Conversations = Annotated[ConversationService, Depends(_conversations)]
Webchat = Annotated[WebchatChannel, Depends(_channel)]
Hub = Annotated[PushHub, Depends(_hub)]
GatewaySettings = Annotated[Settings, Depends(_settings)]


async def _reader(
    request: Request,
    sender: Annotated[
        str | None, Query(description=f"The conversation (with {API_KEY_HEADER} only)")
    ] = None,
) -> WebchatCaller:
    """The caller of a GET: ``sender`` (header or query) counts only with an API key."""
    return await identify(request, request.headers.get(SENDER_HEADER, sender))


Reader = Annotated[WebchatCaller, Depends(_reader)]

router = APIRouter(tags=["web chat"])


@router.post("/webchat/session", status_code=201, response_model=SessionOut)
async def start_webchat_session(
    request: Request, limits: Limits, settings: GatewaySettings
) -> JSONResponse:
    """Start a conversation (called by the chat page; anyone, limited per address).

    The session is an HttpOnly cookie; the cookie's previous session, if any, ends."""
    refuse_cross_site(request)
    await limits.hit(
        settings.limit_sessions_per_address,
        "webchat-sessions",
        client_address(request),
        message=TOO_MANY_SESSIONS,
    )
    sessions = sessions_of(request)
    await sessions.end(request.cookies.get(COOKIE))
    token, _ = await sessions.start()
    response = JSONResponse({"idle_minutes": settings.session_idle_minutes}, status_code=201)
    set_session_cookie(request, response, token)
    return response


@router.delete("/webchat/session", status_code=204, response_class=Response)
async def end_webchat_session(request: Request) -> Response:
    """ "Terminar conversación" (called by the chat page with its cookie): the session ends and
    its conversation can no longer be read with it. Without a live session: nothing to end."""
    refuse_cross_site(request)
    await sessions_of(request).end(request.cookies.get(COOKIE))
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response


@router.post(
    "/webhooks/webchat", response_model=list[BotMessageOut], response_model_exclude_none=True
)
async def webchat_message(
    body: WebchatRequest,
    request: Request,
    conversations: Conversations,
    channel: Webchat,
    limits: Limits,
    settings: GatewaySettings,
) -> list[dict[str, Any]]:
    """Send a citizen's message; the answer is the bot's messages (Rasa's REST shape).

    Callers: the chat page with its session cookie, or an integrator with ``X-Api-Key`` and
    ``sender``."""
    caller = await identify(request, body.sender)
    if not caller.integrator:
        refuse_cross_site(request)
    [inbound] = channel.parse(body.model_copy(update={"sender": caller.sender}))
    # Limits before anything is stored: a refused message is neither saved nor sent to Rasa.
    await limits.hit(
        settings.limit_webchat_posts_per_session,
        "webchat-posts-session",
        caller.sender,
        message=TOO_FAST,
    )
    if not caller.integrator:
        await limits.hit(
            settings.limit_webchat_posts_per_address,
            "webchat-posts-address",
            client_address(request),
            message=TOO_FAST,
        )
    if caller.session_token is not None and caller.session is not None:
        await sessions_of(request).seen(caller.session_token, caller.session)
    replies = await conversations.handle(inbound)
    return channel.render(replies, caller.sender)


@router.get("/webchat/history", response_model=list[HistoryItem], response_model_exclude_none=True)
async def webchat_history(
    caller: Reader, conversations: Conversations, channel: Webchat
) -> list[dict[str, Any]]:
    """The conversation so far, so a reloaded page shows it again (the session's citizen, or an
    integrator with ``X-Api-Key``)."""
    entries = await conversations.history(channel.name, caller.sender)
    items: list[dict[str, Any]] = []
    for entry in entries:
        if entry.direction == "out":
            # Stored bot messages go through the same rendering as live ones.
            item = channel.render([{**(entry.payload or {}), "text": entry.text}], caller.sender)[0]
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


class _HeldStream(StreamingResponse):
    """A stream that gives back its connection slots when it ends, however it ends."""

    def __init__(
        self, content: AsyncIterator[str], release: Callable[[], Awaitable[Any]], **kwargs: Any
    ) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._release()


@router.get("/webchat/stream")
async def webchat_stream(
    caller: Reader,
    request: Request,
    hub: Hub,
    channel: Webchat,
    limits: Limits,
    settings: GatewaySettings,
) -> StreamingResponse:
    """Server-sent events: bot messages that arrive later (e.g. an agent's reply). Callers: the
    session's citizen (limited streams per session and per address), or an integrator.

    An open stream counts as activity; it ends when the session does."""
    sessions = sessions_of(request)
    token = caller.session_token
    held = AsyncExitStack()
    try:
        await held.enter_async_context(
            limits.connection(
                settings.max_streams_per_session,
                "webchat-streams-session",
                caller.sender,
                message=TOO_MANY_STREAMS,
            )
        )
        if not caller.integrator:
            await held.enter_async_context(
                limits.connection(
                    settings.max_streams_per_address,
                    "webchat-streams-address",
                    client_address(request),
                    message=TOO_MANY_STREAMS,
                )
            )
        if token is not None and caller.session is not None:
            await sessions.seen(token, caller.session)
    except BaseException:
        await held.aclose()  # the places taken are given back, whatever failed
        raise
    key = engine_sender_id(channel.name, caller.sender)

    async def events() -> AsyncIterator[str]:
        queue = hub.subscribe(key)
        try:
            yield ": connected\n\n"
            checked = time.monotonic()
            while not await request.is_disconnected():
                if time.monotonic() - checked >= KEEPALIVE_SECONDS:
                    checked = time.monotonic()
                    if token is not None and not await sessions.still_active(token):
                        return  # ended or expired: the page's reconnection gets a 401
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if message is RESYNC:
                    return  # the bus had a gap: the page reconnects (its history has the rest)
                rendered = channel.render([message], caller.sender)[0]
                yield f"event: message\ndata: {json.dumps(rendered, ensure_ascii=False)}\n\n"
        finally:
            hub.unsubscribe(key, queue)

    return _HeldStream(
        events(),
        held.aclose,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/", include_in_schema=False)
async def webchat_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")
