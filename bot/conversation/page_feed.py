"""Comments on the agency's Facebook Page, as the Messenger connector hands them over.

Meta sends them on the same webhook as Messenger's messages (``object: "page"``, each
``entry[].changes[]`` with ``field: "feed"``), signed the same way. The connector checks the
signature, keeps the changes about comments (``value.item == "comment"``) and passes them, as
:class:`FeedComment` objects, to whatever the app keeps as ``app.state.page_feed``: an object
with the :class:`PageFeed` interface (the listening room, ``bot/listening/``), which stores
them before the webhook's 200. Neither side imports the other: both import this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

#: What happened to the comment: written, changed by its author, taken down.
Verb = Literal["add", "edited", "remove"]


@dataclass(frozen=True)
class FeedComment:
    """One comment (or a reply to one) on one of the Page's posts, by someone else."""

    #: The platform's id of the comment (``{post}_{comment}``): redeliveries are recognised by it.
    platform_id: str
    verb: Verb
    post_id: str
    #: The comment this one answers; None for a comment on the post itself.
    parent_id: str | None
    author_id: str | None
    author_name: str | None
    #: As written (empty for a removal or a comment with only a photo or a sticker).
    text: str
    created_at: dt.datetime


@runtime_checkable
class CommentSource(Protocol):
    """A channel whose webhook also carries the Page's comments (Messenger)."""

    def comments(self, payload: Any) -> list[FeedComment]:
        """The comments in a verified webhook payload, in order (none: an empty list)."""
        ...


class PageFeed(Protocol):
    """Who keeps the Page's comments (the listening room)."""

    async def accept(self, comments: list[FeedComment]) -> tuple[int, int]:
        """Store them before the webhook is answered; (new or changed, redeliveries)."""
        ...
