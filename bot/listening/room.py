"""The listening room's objects, built together for the app factory (``bot/web/app.py``)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.rasa_client import RasaClient
from bot.listening.replies import PageReplies
from bot.listening.rules import load_rules
from bot.listening.sentiment import PackagedModel
from bot.listening.service import Listening
from bot.listening.store import CommentStore
from bot.ops.settings import Settings


def listening_room(
    engine: AsyncEngine, rasa: RasaClient, http: httpx.AsyncClient, settings: Settings
) -> Listening:
    """Comments stored on ``engine``, their topic from ``rasa``, their sentiment from the
    packaged model (unless LISTENING_SENTIMENT=false), answered through the Graph API with the
    Page's token (when Messenger is configured)."""
    token = settings.messenger_page_access_token
    replies = (
        PageReplies(http, settings.graph_api_url, token.get_secret_value())
        if settings.messenger_enabled and token is not None
        else None
    )
    return Listening(
        CommentStore(engine),
        rasa.parse,
        PackagedModel() if settings.listening_sentiment else None,
        load_rules(settings.listening_dir),
        replies,
        retry_seconds=settings.listening_retry_seconds,
    )
