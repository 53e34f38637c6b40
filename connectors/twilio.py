"""WhatsApp through Twilio: a form-encoded webhook in, Twilio's Messages REST API out.

In: ``From`` (``whatsapp:+51…``), ``Body``, ``MessageSid`` (redeliveries are recognised by it),
``NumMedia``, ``ProfileName``, ``ButtonPayload`` (a pressed quick reply). The request must carry
``X-Twilio-Signature``: base64 of the HMAC-SHA1, keyed with the auth token, of the public URL
Twilio called followed by every POST parameter sorted by name (name then value).

Out: ``POST {TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json`` with basic auth; text
split at 1,600 characters; buttons become a numbered list whose number is accepted as the
answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.conversation.channel import (
    BUTTON_TITLE_KEY,
    BotMessage,
    ChannelError,
    InboundMessage,
    PlatformChannel,
    SendError,
    text_and_buttons,
)
from connectors.base import NumberedOptions, enabled_channel, split_text

MAX_BODY = 1600
SIGNATURE_HEADER = "x-twilio-signature"
#: Twilio error: the WhatsApp 24-hour session is closed (only templates may be sent).
OUTSIDE_WINDOW = 63016
PROFILE_NAME_KEY = "profile_name"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signature(url: str, params: Mapping[str, str | list[str]], auth_token: str) -> str:
    """Twilio's request signature (repeated parameters: each value, sorted)."""
    data = url
    for name in sorted(params):
        values = params[name]
        for value in sorted(values) if isinstance(values, list) else [values]:
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioChannel(PlatformChannel):
    name = "twilio"

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        account_sid: str,
        auth_token: str,
        whatsapp_from: str,
        public_url: str | None = None,
    ) -> None:
        self._http = http
        self._url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = (account_sid, auth_token)
        self._from = (
            whatsapp_from if whatsapp_from.startswith("whatsapp:") else f"whatsapp:{whatsapp_from}"
        )
        self._public_url = public_url
        self._numbered = NumberedOptions()

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> None:
        params: dict[str, list[str]] = {}
        for name, value in urllib.parse.parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True
        ):
            params.setdefault(name, []).append(value)
        received = headers.get(SIGNATURE_HEADER, "")
        expected = signature(self._public_url or url, params, self._auth[1])
        if not received or not hmac.compare_digest(received.encode(), expected.encode()):
            raise ChannelError(403, "invalid_signature", "Firma del webhook inválida.")

    def parse(self, payload: Any) -> list[InboundMessage]:
        if (
            not isinstance(payload, Mapping)
            or not payload.get("MessageSid")
            or not payload.get("From")
        ):
            raise ChannelError(400, "invalid_request", "Faltan MessageSid o From.")
        sender = str(payload["From"]).removeprefix("whatsapp:")
        platform_id = f"twilio:{payload['MessageSid']}"
        metadata: dict[str, Any] = {}
        if payload.get("ProfileName"):
            metadata[PROFILE_NAME_KEY] = str(payload["ProfileName"])
        text = str(payload.get("Body") or "")
        if payload.get("ButtonPayload"):
            metadata[BUTTON_TITLE_KEY] = text
            text = str(payload["ButtonPayload"])
        else:
            text = self._numbered.answer(sender, text)
        if text.strip():
            return [InboundMessage(self.name, sender, text, metadata, platform_id)]
        try:
            media = int(payload.get("NumMedia") or 0)
        except ValueError:
            media = 0
        kind = "media" if media else "empty"
        return [InboundMessage(self.name, sender, "", metadata, platform_id, unsupported=kind)]

    def render(self, messages: list[BotMessage], recipient_id: str) -> list[dict[str, Any]]:
        """Bodies of Twilio messages, in order."""
        bodies: list[dict[str, Any]] = []
        for message in messages:
            text, buttons = text_and_buttons(message)
            if buttons:
                text = self._numbered.offer(recipient_id, text, buttons)
            bodies += [{"Body": piece} for piece in split_text(text, MAX_BODY)] if text else []
            if isinstance(message.get("image"), str):
                bodies.append({"MediaUrl": message["image"]})
        return bodies

    async def send(self, recipient_id: str, message: BotMessage, within_window: bool) -> str:
        last = ""
        for body in self.render([message], recipient_id):
            form = {"From": self._from, "To": f"whatsapp:{recipient_id}", **body}
            try:
                response = await self._http.post(self._url, data=form, auth=self._auth, timeout=10)
            except httpx.HTTPError as exc:
                raise SendError(f"Twilio unreachable: {type(exc).__name__}", True) from exc
            try:
                data = response.json()
            except ValueError:
                data = {}
            if response.status_code in (200, 201) and isinstance(data, dict):
                last = str(data.get("sid") or last)
                continue
            code = data.get("code") if isinstance(data, dict) else None
            raise SendError(
                f"HTTP {response.status_code}, code {code}",
                response.status_code >= 500 or response.status_code == 429,
                outside_window=code == OUTSIDE_WINDOW,
            )
        return f"twilio:{last}" if last else ""


router = APIRouter(tags=["twilio"])


@router.post("/webhooks/twilio")
async def twilio_webhook(request: Request) -> Response:
    """Twilio's signed form; the answer goes through the REST API, so the TwiML is empty."""
    channel = enabled_channel(request, TwilioChannel, "Twilio")
    body = await request.body()
    channel.verify(body, request.headers, str(request.url))
    params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    await request.app.state.delivery.accept(channel, params)
    return Response(EMPTY_TWIML, media_type="text/xml")
