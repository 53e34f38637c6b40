"""What Messenger and WhatsApp share: Meta's webhook subscription check and request signature,
the Graph API call, and the webhook's two endpoints.

- Subscription: Meta calls ``GET`` with ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge``; the challenge is echoed as plain text only for our verify token.
- Signature: ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body with the
  app secret, compared in constant time. Nothing is parsed before it matches.
- The Page's comments (``feed`` changes, on Messenger's webhook): handed to ``app.state.
  page_feed`` (:class:`bot.conversation.page_feed.PageFeed`), stored before the 200 too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from bot.conversation.channel import ChannelError, PlatformChannel, SendError
from bot.conversation.page_feed import CommentSource, PageFeed
from connectors.base import enabled_channel

SIGNATURE_HEADER = "x-hub-signature-256"


def check_subscription(mode: str | None, token: str | None, expected: str) -> None:
    if (
        mode != "subscribe"
        or token is None
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise ChannelError(403, "verification_failed", "Verificación de webhook rechazada.")


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``body`` (tests and the fake Graph API use it too)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(body: bytes, headers: Mapping[str, str], app_secret: str) -> None:
    received = headers.get(SIGNATURE_HEADER, "")
    if not received.startswith("sha256=") or not hmac.compare_digest(
        received.encode(), sign(body, app_secret).encode()
    ):
        raise ChannelError(403, "invalid_signature", "Firma del webhook inválida.")


async def post_graph(
    http: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    retry_codes: Collection[int],
    outside_window: Callable[[Any, Any], bool],
    **request: Any,
) -> dict[str, Any]:
    """One Graph API call; its JSON answer, or :class:`SendError` saying whether to retry
    (HTTP 5xx, 429 and the platform's ``retry_codes``) and whether the window has closed."""
    try:
        response = await http.post(url, json=body, timeout=10, **request)
    except httpx.HTTPError as exc:
        raise SendError(f"Graph API unreachable: {type(exc).__name__}", True) from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code == 200 and isinstance(data, dict) and "error" not in data:
        return data
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    subcode = error.get("error_subcode") if isinstance(error, dict) else None
    status = response.status_code
    raise SendError(
        f"HTTP {status}, code {code}" + (f"/{subcode}" if subcode else ""),
        status >= 500 or status == 429 or code in retry_codes,
        outside_window=outside_window(code, subcode),
    )


def webhook_router(channel_type: type[PlatformChannel], label: str, verify_token: str) -> APIRouter:
    """``GET`` (subscription check against the setting ``verify_token``) and ``POST`` (signed
    events: stored before the 200, answered in the background) of ``/webhooks/<channel>``."""
    path = f"/webhooks/{channel_type.name}"
    router = APIRouter(tags=[channel_type.name])

    @router.get(path, response_class=PlainTextResponse)
    async def subscription(
        request: Request,
        mode: Annotated[str | None, Query(alias="hub.mode")] = None,
        token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
        challenge: Annotated[str, Query(alias="hub.challenge")] = "",
    ) -> PlainTextResponse:
        """Meta's subscription check: the challenge back, for our verify token only."""
        enabled_channel(request, channel_type, label)
        expected = getattr(request.app.state.settings, verify_token).get_secret_value()
        check_subscription(mode, token, expected)
        return PlainTextResponse(challenge)

    @router.post(path)
    async def webhook(request: Request) -> JSONResponse:
        """Signed events from Meta: stored before the 200, answered in the background."""
        channel = enabled_channel(request, channel_type, label)
        body = await request.body()
        channel.verify(body, request.headers, str(request.url))
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise ChannelError(400, "invalid_json", "El cuerpo no es JSON válido.") from exc
        new, repeated = await request.app.state.delivery.accept(channel, payload)
        answer: dict[str, Any] = {"status": "ok", "accepted": new, "repeated": repeated}
        feed: PageFeed | None = getattr(request.app.state, "page_feed", None)
        if feed is not None and isinstance(channel, CommentSource):
            comments = channel.comments(payload)
            if comments:
                stored, again = await feed.accept(comments)
                answer["comments"] = {"accepted": stored, "repeated": again}
        return JSONResponse(answer)

    return router
