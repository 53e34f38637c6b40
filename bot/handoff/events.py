"""The console's live updates: a WebSocket of desk events (new chats, messages, claims, closes).

Only for a logged-in console session, from the console's own origin. The session is checked
again every ``ConsoleHub.session_check_seconds`` (30 s) and at once when it is logged out or its
agent deactivated: the socket then closes with code 4401 and the agent stops counting as
online. Open sockets are capped per session and per client address (4429 when full). Events
from other gateways come through ``bot/handoff/hub.py``; when some may have been missed the
socket closes with 1012 (service restart) and the page reconnects and refetches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bot.accounts.agents import session_key
from bot.handoff.hub import RESYNC, SESSION_ENDED, Events
from bot.handoff.service import HandoffDesk
from bot.web.client_address import client_address
from bot.web.deps import COOKIE
from bot.web.rate_limits import LimitExceeded, RateLimits

logger = logging.getLogger(__name__)

#: Close codes the console's page understands (any other: it reconnects and refetches).
SESSION_OVER, TOO_MANY, CROSS_SITE, RECONNECT = 4401, 4429, 4403, 1012
TOO_MANY_CONSOLES = "Demasiadas consolas abiertas. Cierra alguna e intenta de nuevo."

router = APIRouter(tags=["agent console"])


@router.websocket("/api/console/events")
async def events(websocket: WebSocket) -> None:
    """A logged-in agent (cookie), from the console's own page: desk events they may see."""
    desk: HandoffDesk = websocket.app.state.desk
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if origin is not None and host is not None and origin.split("://", 1)[-1] != host:
        await websocket.close(code=CROSS_SITE)  # cross-site WebSocket hijacking
        return
    token = websocket.cookies.get(COOKIE)
    session = await desk.agents.session(token) if token else None
    if token is None or session is None:
        await _refuse(websocket, SESSION_OVER, "Inicia sesión para continuar.")
        return
    limits: RateLimits = websocket.app.state.rate_limits
    settings = websocket.app.state.settings
    key = session_key(token)
    try:
        async with (
            limits.connection(settings.max_streams_per_session, "console-session", key),
            limits.connection(
                settings.max_streams_per_address, "console-address", client_address(websocket)
            ),
        ):
            # Subscribed before the page hears "open": a logout from then on reaches it.
            queue = desk.hub.subscribe(session.agent, key)
            try:
                await websocket.accept()
                await _stream(websocket, desk, token, queue, session.agent.id)
            finally:
                desk.hub.unsubscribe(queue)
    except LimitExceeded:
        logger.info("console socket refused: agent=%s has too many open", session.agent.id)
        await _refuse(websocket, TOO_MANY, TOO_MANY_CONSOLES)


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with ``code``: browsers see the code only after the handshake."""
    await websocket.accept()
    await websocket.close(code=code, reason=reason)


async def _stream(
    websocket: WebSocket, desk: HandoffDesk, token: str, queue: Events, agent_id: int
) -> None:
    """Send the agent's events until the socket closes or the session ends."""
    desk.seen(agent_id)
    talking = [
        asyncio.create_task(_send(websocket, queue)),
        asyncio.create_task(_listen(websocket, desk, queue, agent_id)),
    ]
    tasks = [*talking, asyncio.create_task(_recheck(desk, token, queue, agent_id))]
    try:
        await asyncio.wait(talking, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _send(websocket: WebSocket, queue: Events) -> None:
    while True:
        event = await queue.get()
        if event is SESSION_ENDED:
            await websocket.close(code=SESSION_OVER, reason="Tu sesión terminó.")
            return
        if event is RESYNC:  # events may have been missed: the page reconnects and refetches
            await websocket.close(code=RECONNECT, reason="Reconectando.")
            return
        await websocket.send_json(event)


async def _listen(websocket: WebSocket, desk: HandoffDesk, queue: Events, agent_id: int) -> None:
    """Pings from the page keep the agent online (while the session lasts)."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
            if desk.hub.subscribed(queue):
                desk.seen(agent_id)


async def _recheck(desk: HandoffDesk, token: str, queue: Events, agent_id: int) -> None:
    """Check the session again every ``session_check_seconds``: expired, logged out elsewhere
    or deactivated ends it (the sender closes the socket); a changed role or team applies to
    what the console receives."""
    while desk.hub.subscribed(queue):
        await asyncio.sleep(desk.hub.session_check_seconds)
        current = await desk.agents.session(token)
        if current is None:
            desk.sessions_ended(agent_id, session_key(token))
            return
        desk.hub.refresh(current.agent)
