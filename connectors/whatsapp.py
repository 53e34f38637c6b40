"""WhatsApp Cloud API: Meta's webhook in, ``/{phone-number-id}/messages`` out.

In: every ``entry[].changes[].value`` — messages (text, interactive ``button_reply`` and
``list_reply``, template ``button``, location and media answered politely), the contact's
profile name (kept for agents), and ``statuses`` (sent, delivered, read, failed with the error
code). Messages are ordered by their timestamp within a conversation.

Out: text up to 4,096 characters; up to 3 buttons → interactive reply buttons (titles at most
20 characters, unique ids); 4 to 10 → an interactive list (button label at most 20, row title at
most 24, description at most 72); more → a numbered text whose number is accepted as the
answer. Incoming messages are marked as read.
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
from connectors.base import NumberedOptions, shorten, split_text
from connectors.meta import check_signature, post_graph, webhook_router

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS = 3
MAX_LIST_ROWS = 10
MAX_BUTTON_TITLE = 20
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_REPLY_ID = 200
LIST_BUTTON = "Ver opciones"
#: Cloud API errors: retried later (rate limits), and "outside the 24-hour window".
RETRY_LATER = {130429, 131056, 131048, 4, 80007}
OUTSIDE_WINDOW = 131047
UNSUPPORTED = {"image", "audio", "video", "document", "sticker", "location", "contacts"}
PROFILE_NAME_KEY = "profile_name"


def _moment(seconds: Any) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(seconds), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.now(dt.UTC)


#: Message types that need no answer (a reaction, a system notice).
SILENT = {"reaction", "system", "ephemeral"}


def _unique(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Buttons with distinct ids (the first of a repeated id is kept) and titles made distinct
    after shortening ("Opción muy larga…" twice becomes "… 1", "… 2"): the Cloud API refuses
    duplicates of either."""
    kept: list[dict[str, Any]] = []
    ids: set[str] = set()
    for button in buttons:
        key = button["payload"][:MAX_REPLY_ID]
        if key not in ids:
            ids.add(key)
            kept.append(button)
    return kept


def _titles(buttons: list[dict[str, Any]], limit: int) -> list[str]:
    titles = [shorten(str(b.get("title") or b["payload"]), limit) for b in buttons]
    for i, title in enumerate(titles):
        if titles.count(title) > 1:
            suffix = f" {i + 1}"
            titles[i] = shorten(str(buttons[i].get("title") or ""), limit - len(suffix)) + suffix
    return titles


class WhatsAppChannel(PlatformChannel):
    name = "whatsapp"

    def __init__(
        self,
        http: httpx.AsyncClient,
        graph_api_url: str,
        phone_number_id: str,
        access_token: str,
        app_secret: str,
        template: str | None = None,
        template_language: str = "es",
    ) -> None:
        self._template = template
        self._template_language = template_language
        self._http = http
        self._url = f"{graph_api_url.rstrip('/')}/{phone_number_id}/messages"
        self._token = access_token
        self._app_secret = app_secret
        #: Options offered as a numbered text: their number is the answer.
        self._numbered = NumberedOptions()

    # --- in -------------------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> None:
        check_signature(body, headers, self._app_secret)

    @staticmethod
    def _values(payload: Any) -> list[dict[str, Any]]:
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            raise ChannelError(
                400, "unsupported_object", "Se esperaba un evento de WhatsApp Business."
            )
        values = []
        for entry in payload.get("entry") or []:
            for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
                value = change.get("value") if isinstance(change, dict) else None
                if isinstance(value, dict):
                    values.append(value)
        return values

    def parse(self, payload: Any) -> list[InboundMessage]:
        found: list[tuple[int, InboundMessage]] = []
        for value in self._values(payload):
            names = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in value.get("contacts") or []
                if isinstance(c, dict)
            }
            for message in value.get("messages") or []:
                if (
                    not isinstance(message, dict)
                    or not message.get("from")
                    or not message.get("id")
                ):
                    continue
                parsed = self._message(message, names.get(str(message["from"]), ""))
                if parsed is not None:
                    try:
                        order = int(message.get("timestamp") or 0)
                    except (TypeError, ValueError):
                        order = 0
                    found.append((order, parsed))
        # Webhooks may carry a conversation's messages out of order: by timestamp (stable).
        return [m for _, m in sorted(found, key=lambda item: item[0])]

    def _message(self, message: dict[str, Any], profile: str) -> InboundMessage | None:
        sender, kind = str(message["from"]), message.get("type")
        platform_id = f"whatsapp:{message['id']}"
        metadata: dict[str, Any] = {PROFILE_NAME_KEY: profile} if profile else {}
        if kind == "text":
            body = self._numbered.answer(sender, str((message.get("text") or {}).get("body") or ""))
            return (
                InboundMessage(self.name, sender, body, metadata, platform_id)
                if body.strip()
                else None
            )
        if kind == "interactive":
            interactive = message.get("interactive") or {}
            reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
            if isinstance(reply, dict) and reply.get("id"):
                if reply.get("title"):
                    metadata[BUTTON_TITLE_KEY] = str(reply["title"])
                return InboundMessage(self.name, sender, str(reply["id"]), metadata, platform_id)
            return None
        if kind == "button":
            button = message.get("button") or {}
            text = button.get("payload") or button.get("text")
            if text:
                if button.get("text"):
                    metadata[BUTTON_TITLE_KEY] = str(button["text"])
                return InboundMessage(self.name, sender, str(text), metadata, platform_id)
            return None
        if kind in SILENT:
            return None
        return InboundMessage(
            self.name, sender, "", metadata, platform_id,
            unsupported=str(kind) if kind in UNSUPPORTED else f"{kind or 'desconocido'}",
        )  # fmt: skip

    def statuses(self, payload: Any) -> list[StatusUpdate]:
        found = []
        for value in self._values(payload):
            for status in value.get("statuses") or []:
                if not isinstance(status, dict) or status.get("status") not in (
                    "delivered", "read", "failed",
                ):  # fmt: skip
                    continue
                errors = [e for e in status.get("errors") or [] if isinstance(e, dict)]
                error = (
                    f"code {errors[0].get('code')}: {errors[0].get('title', '')}".strip()
                    if errors
                    else None
                )
                found.append(
                    StatusUpdate(
                        self.name, str(status.get("recipient_id") or ""), status["status"],
                        _moment(status.get("timestamp")), (f"whatsapp:{status.get('id')}",), error,
                    )
                )  # fmt: skip
        return found

    # --- out ------------------------------------------------------------------------------

    def render(self, messages: list[BotMessage], recipient_id: str) -> list[dict[str, Any]]:
        """Cloud API message objects (without ``messaging_product`` and ``to``), in order."""
        rendered: list[dict[str, Any]] = []
        for message in messages:
            text, buttons = text_and_buttons(message)
            buttons = _unique(buttons)
            if isinstance(message.get("image"), str):
                rendered.append({"type": "image", "image": {"link": message["image"]}})
            if len(buttons) > MAX_LIST_ROWS:
                text = self._numbered.offer(recipient_id, text, buttons)
                buttons = []
            pieces = split_text(text, MAX_TEXT) if text else []
            if buttons and (not pieces or len(pieces[-1]) > MAX_INTERACTIVE_BODY):
                pieces.append("Elige una opción:")
            last = pieces.pop() if buttons else None
            rendered += [
                {"type": "text", "text": {"body": p, "preview_url": False}} for p in pieces
            ]
            if not buttons or last is None:
                continue
            if len(buttons) <= MAX_BUTTONS:
                titles = _titles(buttons, MAX_BUTTON_TITLE)
                action: dict[str, Any] = {"buttons": [
                    {"type": "reply", "reply": {"id": b["payload"][:MAX_REPLY_ID], "title": t}}
                    for b, t in zip(buttons, titles, strict=True)
                ]}  # fmt: skip
                kind = "button"
            else:
                titles = _titles(buttons, MAX_ROW_TITLE)
                action = {"button": LIST_BUTTON, "sections": [{"title": "Opciones", "rows": [
                    {"id": b["payload"][:MAX_REPLY_ID], "title": t,
                     **({"description": shorten(str(b["title"]), MAX_ROW_DESCRIPTION)}
                        if len(str(b.get("title") or "")) > MAX_ROW_TITLE else {})}
                    for b, t in zip(buttons, titles, strict=True)
                ]}]}  # fmt: skip
                kind = "list"
            rendered.append(
                {"type": "interactive",
                 "interactive": {"type": kind, "body": {"text": last}, "action": action}}
            )  # fmt: skip
        return rendered

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        return await post_graph(
            self._http, self._url, {"messaging_product": "whatsapp", **body}, RETRY_LATER,
            lambda code, _subcode: code == OUTSIDE_WINDOW,
            headers={"Authorization": f"Bearer {self._token}"},
        )  # fmt: skip

    async def send(self, recipient_id: str, message: BotMessage, within_window: bool) -> str:
        last_id = ""
        for part in self.render([message], recipient_id):
            data = await self._post({"recipient_type": "individual", "to": recipient_id, **part})
            ids = [m.get("id") for m in data.get("messages") or [] if isinstance(m, dict)]
            last_id = str(ids[-1]) if ids and ids[-1] else last_id
        return f"whatsapp:{last_id}" if last_id else ""

    async def reengage(self, recipient_id: str) -> str | None:
        if not self._template:
            return None
        data = await self._post({
            "recipient_type": "individual", "to": recipient_id, "type": "template",
            "template": {"name": self._template, "language": {"code": self._template_language}},
        })  # fmt: skip
        ids = [m.get("id") for m in data.get("messages") or [] if isinstance(m, dict)]
        return f"whatsapp:{ids[-1]}" if ids and ids[-1] else ""

    async def acknowledge(self, inbound: InboundMessage) -> None:
        if inbound.platform_id:
            try:
                await self._post(
                    {"status": "read", "message_id": inbound.platform_id.split(":", 1)[1]}
                )
            except SendError:
                return


router = webhook_router(WhatsAppChannel, "WhatsApp", "whatsapp_verify_token")
