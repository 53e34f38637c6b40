"""Answers to comments through Meta's Graph API, with the Page's access token
(``MESSENGER_PAGE_ACCESS_TOKEN``) and the app's shared ``httpx.AsyncClient``:

- public: ``POST /{comment-id}/comments`` with ``message``: a reply under the comment;
- private (Messenger's Private Replies): ``POST /me/messages`` with ``recipient.comment_id``,
  the Page being ``me`` for its own token. Meta allows one per comment, within
  :data:`PRIVATE_REPLY_WINDOW` of the comment
  (developers.facebook.com/documentation/business-messaging/messenger-platform/discovery/
  private-replies).

Any refusal is a :class:`ReplyRefused`: the caller records nothing as answered.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import httpx

logger = logging.getLogger(__name__)

#: How long after a comment Meta accepts its one private reply.
PRIVATE_REPLY_WINDOW = dt.timedelta(days=7)
#: The platform's ids (``{post}_{comment}``): anything else never reaches a URL.
_GRAPH_ID = re.compile(r"[0-9A-Za-z_.-]{1,160}")


class ReplyRefused(Exception):
    """Meta did not take the reply (or could not be reached); ``reason`` is for the logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PageReplies:
    def __init__(self, http: httpx.AsyncClient, graph_api_url: str, page_token: str) -> None:
        self._http = http
        self._url = graph_api_url.rstrip("/")
        self._token = page_token

    async def public(self, comment_id: str, text: str) -> str:
        """Reply under the comment; the new comment's id."""
        answer = await self._post(f"{_checked(comment_id)}/comments", {"message": text})
        return str(answer.get("id") or "")

    async def private(self, comment_id: str, text: str) -> str:
        """Send the comment's author a private message about it; the message's id."""
        body = {"recipient": {"comment_id": _checked(comment_id)}, "message": {"text": text}}
        answer = await self._post("me/messages", body)
        return str(answer.get("message_id") or "")

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http.post(
                f"{self._url}/{path}", json=body, params={"access_token": self._token}, timeout=10
            )
        except httpx.HTTPError as exc:
            raise ReplyRefused(f"Graph API unreachable: {type(exc).__name__}") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code == 200 and isinstance(data, dict) and "error" not in data:
            return data
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        raise ReplyRefused(f"Graph API answered HTTP {response.status_code}, code {code}")


def _checked(comment_id: str) -> str:
    if not _GRAPH_ID.fullmatch(comment_id):
        raise ReplyRefused("not a Graph API id")
    return comment_id
