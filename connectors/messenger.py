"""Facebook Messenger (a fanpage): Meta's webhook in, the Send API out.

Every ``entry`` and every ``messaging`` event of a batch is read: text, quick replies (their
payload wins over the text), postbacks, attachments (answered politely: the assistant reads
text), delivery and read receipts; echoes of our own messages are ignored. Answers are
rendered within Messenger's limits: text split on sentence boundaries at 2,000 characters;
up to 3 buttons with a short text as a button template (text at most 640), otherwise quick
replies (at most 13, titles at most 20 characters, shortened with "…").

The same webhook carries the Page's ``feed`` changes: comments and replies on the agency's
posts (added, edited, removed), read by :meth:`MessengerChannel.comments` for the listening
room; the Page's own comments are left out.
"""

from __future__ import annotations

import datetime as dt
import re
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
from bot.conversation.page_feed import FeedComment, Verb
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
#: What the Page's ``feed`` webhook says happened to a comment, as kept here.
FEED_VERBS: dict[str, Verb] = {"add": "add", "edited": "edited", "edit": "edited",
                               "remove": "remove"}  # fmt: skip
MAX_ID = 160
_GRAPH_ID = re.compile(r"[0-9A-Za-z_.-]+")


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


def _feed_id(value: Any, longest: int = MAX_ID) -> str | None:
    """A Graph API id (digits and ``_``, as Meta writes them), or None."""
    text = str(value) if isinstance(value, str | int) else ""
    return text if 0 < len(text) <= longest and _GRAPH_ID.fullmatch(text) else None


def _feed_moment(value: Any) -> dt.datetime:
    """``created_time``: seconds since the epoch, or an ISO 8601 date (older versions)."""
    if isinstance(value, str) and not value.isdigit():
        try:
            moment = dt.datetime.fromisoformat(value.replace("+0000", "+00:00"))
        except ValueError:
            return dt.datetime.now(dt.UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return _moment(int(value) * 1000 if isinstance(value, str | int) else None)


def _feed_comment(value: Any, page_id: str) -> FeedComment | None:
    """One ``feed`` change as a comment, or None (not a comment, malformed, or the Page's)."""
    if not isinstance(value, dict) or value.get("item") != "comment":
        return None
    verb = FEED_VERBS.get(str(value.get("verb")))
    comment_id, post_id = _feed_id(value.get("comment_id")), _feed_id(value.get("post_id"))
    if verb is None or comment_id is None or post_id is None:
        return None
    sender = value.get("from")
    author: dict[str, Any] = sender if isinstance(sender, dict) else {}
    author_id = _feed_id(author.get("id"), 128)
    if author_id is not None and author_id == page_id:
        return None  # the agency's own answer
    parent = _feed_id(value.get("parent_id"))
    name = author.get("name")
    message = value.get("message")
    return FeedComment(
        platform_id=comment_id,
        verb=verb,
        post_id=post_id,
        parent_id=parent if parent not in (None, post_id) else None,
        author_id=author_id,
        author_name=name[:MAX_ID] if isinstance(name, str) and name else None,
        text=message if isinstance(message, str) else "",
        created_at=_feed_moment(value.get("created_time")),
    )


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

    def comments(self, payload: Any) -> list[FeedComment]:
        """The comments in the ``feed`` changes of every entry (other changes, such as posts
        and reactions, and the Page's own comments are left out)."""
        found: list[FeedComment] = []
        if not isinstance(payload, dict) or payload.get("object") != "page":
            return found
        entries = payload.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            changes = entry.get("changes") if isinstance(entry, dict) else None
            if not isinstance(changes, list):
                continue
            page = str(entry.get("id") or "")
            for change in changes:
                if isinstance(change, dict) and change.get("field") == "feed":
                    comment = _feed_comment(change.get("value"), page)
                    if comment is not None:
                        found.append(comment)
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
