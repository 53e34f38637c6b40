"""Facebook Messenger (a fanpage): Meta's webhook in, the Send API out.

Every ``entry`` and every ``messaging`` event of a batch is read: text, quick replies (their
payload wins over the text), postbacks, attachments (answered politely: the assistant reads
text), delivery and read receipts; echoes of our own messages are ignored. Answers are
rendered within Messenger's limits: text split on sentence boundaries at 2,000 characters;
up to 3 buttons with a short text as a button template (text at most 640), otherwise quick
replies (at most 13, titles at most 20 characters, shortened with "…").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx

from bot.conversation.channel import (
    BUTTON_TITLE_KEY,
    BotMessage,
    ChannelError,
    InboundMessage,
    PlatformChannel,
    SendError,
    StatusUpdate,
    text_and_buttons,
)
from connectors.base import shorten, split_text
from connectors.meta import check_signature, post_graph, webhook_router

MAX_TEXT = 2000
MAX_TEMPLATE_TEXT = 640
MAX_TEMPLATE_BUTTONS = 3
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000
#: Graph API error codes worth retrying (rate limits); HTTP 5xx and 429 are retried too.
RETRYABLE_CODES = {4, 17, 32, 613}


def _moment(milliseconds: Any) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(milliseconds) / 1000, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.now(dt.UTC)


def _button(button: dict[str, Any]) -> dict[str, str]:
    title = shorten(str(button.get("title") or button["payload"]), MAX_TITLE)
    return {"title": title, "payload": str(button["payload"])[:MAX_PAYLOAD]}


def _id(value: Any) -> str | None:
    sender = value.get("id") if isinstance(value, dict) else None
    return str(sender) if isinstance(sender, str | int) and str(sender) else None


class MessengerChannel(PlatformChannel):
    name = "messenger"
    #: Messenger's HUMAN_AGENT tag: a person may answer up to 7 days after the last message.
    human_agent_window = dt.timedelta(days=7)

    def __init__(
        self, http: httpx.AsyncClient, graph_api_url: str, page_token: str, app_secret: str
    ) -> None:
        self._http = http
        self._url = graph_api_url.rstrip("/") + "/me/messages"
        self._page_token = page_token
        self._app_secret = app_secret

    # --- in -------------------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> None:
        check_signature(body, headers, self._app_secret)

    @staticmethod
    def _events(payload: Any) -> list[dict[str, Any]]:
        if not isinstance(payload, dict) or payload.get("object") != "page":
            raise ChannelError(400, "unsupported_object", "Se esperaba un evento de página.")
        events = []
        for entry in payload.get("entry") or []:
            if isinstance(entry, dict):
                events += [e for e in entry.get("messaging") or [] if isinstance(e, dict)]
        return events

    def parse(self, payload: Any) -> list[InboundMessage]:
        found = []
        for event in self._events(payload):
            sender = _id(event.get("sender"))
            if sender is None:
                continue
            message, postback = event.get("message"), event.get("postback")
            if isinstance(message, dict):
                if message.get("is_echo"):
                    continue
                mid = message.get("mid")
                platform_id = f"messenger:{mid}" if isinstance(mid, str) and mid else None
                reply = message.get("quick_reply")
                raw_text = message.get("text")
                text = raw_text if isinstance(raw_text, str) else ""
                if isinstance(reply, dict) and isinstance(reply.get("payload"), str):
                    metadata = {BUTTON_TITLE_KEY: text} if text else {}
                    found.append(
                        InboundMessage(self.name, sender, reply["payload"], metadata, platform_id)
                    )
                elif text.strip():
                    found.append(InboundMessage(self.name, sender, text, {}, platform_id))
                elif message.get("attachments"):
                    kinds = sorted(
                        {str(a.get("type")) for a in message["attachments"] if isinstance(a, dict)}
                    )
                    found.append(
                        InboundMessage(
                            self.name, sender, "", {}, platform_id, unsupported=",".join(kinds)
                        )
                    )
            elif isinstance(postback, dict) and isinstance(postback.get("payload"), str):
                mid = postback.get("mid") or f"postback-{sender}-{event.get('timestamp')}"
                title = postback.get("title")
                metadata = {BUTTON_TITLE_KEY: title} if isinstance(title, str) else {}
                found.append(
                    InboundMessage(
                        self.name, sender, postback["payload"], metadata, f"messenger:{mid}"
                    )
                )
        return found

    def statuses(self, payload: Any) -> list[StatusUpdate]:
        found = []
        for event in self._events(payload):
            sender = _id(event.get("sender"))
            delivery, read = event.get("delivery"), event.get("read")
            if sender is None:
                continue
            if isinstance(delivery, dict):
                mids = tuple(f"messenger:{m}" for m in delivery.get("mids") or [] if m)
                moment = _moment(delivery.get("watermark") or event.get("timestamp"))
                found.append(StatusUpdate(self.name, sender, "delivered", moment, mids))
            elif isinstance(read, dict):
                moment = _moment(read.get("watermark") or event.get("timestamp"))
                found.append(StatusUpdate(self.name, sender, "read", moment))
        return found

    # --- out ------------------------------------------------------------------------------

    def render(self, messages: list[BotMessage], recipient_id: str) -> list[dict[str, Any]]:
        """Send API ``message`` objects, in order."""
        rendered: list[dict[str, Any]] = []
        for message in messages:
            text, buttons = text_and_buttons(message)
            pieces = split_text(text, MAX_TEXT) if text else []
            if isinstance(message.get("image"), str):
                rendered.append(
                    {"attachment": {"type": "image", "payload": {"url": message["image"]}}}
                )
            last = pieces.pop() if pieces else ""
            rendered += [{"text": piece} for piece in pieces]
            if not buttons:
                if last:
                    rendered.append({"text": last})
                continue
            if len(buttons) <= MAX_TEMPLATE_BUTTONS and 0 < len(last) <= MAX_TEMPLATE_TEXT:
                rendered.append({
                    "attachment": {"type": "template", "payload": {
                        "template_type": "button",
                        "text": last,
                        "buttons": [{"type": "postback", **_button(b)} for b in buttons],
                    }}
                })  # fmt: skip
            else:
                rendered.append({
                    "text": last or "Elige una opción:",
                    "quick_replies": [
                        {"content_type": "text", **_button(b)} for b in buttons[:MAX_QUICK_REPLIES]
                    ],
                })  # fmt: skip
        return rendered

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        return await post_graph(
            self._http, self._url, body, RETRYABLE_CODES,
            # Code 10 / subcode 2018278: sent outside the allowed window.
            lambda code, subcode: code == 10 and subcode == 2018278,
            params={"access_token": self._page_token},
        )  # fmt: skip

    async def send(self, recipient_id: str, message: BotMessage, within_window: bool) -> str:
        """Every part of one bot message; the id of the last part sent."""
        kind: dict[str, Any] = (
            {"messaging_type": "RESPONSE"}
            if within_window
            else {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        )
        last_id = ""
        for part in self.render([message], recipient_id):
            data = await self._post({"recipient": {"id": recipient_id}, **kind, "message": part})
            last_id = str(data.get("message_id") or "")
        return f"messenger:{last_id}" if last_id else ""

    async def acknowledge(self, inbound: InboundMessage) -> None:
        for action in ("mark_seen", "typing_on"):
            try:
                await self._post({"recipient": {"id": inbound.sender_id}, "sender_action": action})
            except SendError:
                return


router = webhook_router(MessengerChannel, "Messenger", "messenger_verify_token")
