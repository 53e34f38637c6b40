"""The console's «Comentarios»: the fanpage's comments for staff, under ``/api/comments``.

Every signed-in agent may read them (they are public on Facebook already, and shown here with
personal data masked), answer them publicly or privately, or dismiss them; each answer and
dismissal is in the audit log. Changes need the session's CSRF token (:data:`Current`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from bot.listening.sentiment import LABELS, Label
from bot.listening.service import Listening, ReplyError
from bot.listening.store import Comment, Filters, ReplyKind, Status
from bot.web.deps import Audit, ConsoleError, Current, Knowledge, RowId, from_state

#: The listening room (``bot/listening/service.py``).
Comments = Annotated[Listening, Depends(from_state("listening"))]

router = APIRouter(tags=["listening"])

#: Messenger's longest text (a private reply is a Messenger message).
MAX_REPLY = 2000


class ReplyBody(BaseModel):
    kind: Literal["publica", "privada"]
    text: str = Field(min_length=1, max_length=MAX_REPLY)


def _shown(comment: Comment, knowledge: Knowledge) -> dict[str, Any]:
    """The comment, with its topic in words: the knowledge base's article of that intent."""
    item = comment.public()
    article = knowledge.current.get(comment.topic) if comment.topic else None
    item["topic_title"] = article.title if article is not None else None
    return item


def _refusal(exc: ReplyError) -> ConsoleError:
    return ConsoleError(exc.status, exc.code, exc.message)


@router.get("/api/comments")
async def comments(
    session: Current,
    listening: Comments,
    knowledge: Knowledge,
    status: Annotated[list[Status] | None, Query()] = None,
    flagged: bool | None = None,
    sentiment: Annotated[Label | None, Query()] = None,
    topic: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    """Agents: the fanpage's comments, flagged ones first, then the newest (filters: status,
    flagged, sentiment, topic), and how many there are in each status."""
    found = await listening.store.listing(
        Filters(tuple(status or ()), flagged, sentiment, topic), limit, offset
    )
    return {
        "comments": [_shown(c, knowledge) for c in found],
        "counts": await listening.store.counts(),
        "sentiments": list(LABELS),
    }


@router.get("/api/comments/{comment_id}")
async def comment(
    comment_id: RowId, session: Current, listening: Comments, knowledge: Knowledge
) -> dict[str, Any]:
    """Agents: one comment."""
    found = await listening.store.get(comment_id)
    if found is None:
        raise ConsoleError(404, "not_found", "No existe ese comentario.")
    return _shown(found, knowledge)


@router.post("/api/comments/{comment_id}/reply")
async def reply(
    comment_id: RowId,
    body: ReplyBody,
    session: Current,
    listening: Comments,
    knowledge: Knowledge,
    audit: Audit,
) -> dict[str, Any]:
    """Agents: answer on Facebook, publicly under the comment (``publica``) or with a private
    Messenger message to its author (``privada``: one per comment, within 7 days). 409 for a
    second private reply or a removed comment; 502 when Facebook refuses (nothing recorded)."""
    agent = session.agent
    try:
        answered = await listening.reply(comment_id, ReplyKind(body.kind), body.text, agent.id)
    except ReplyError as exc:
        raise _refusal(exc) from exc
    await audit.record(
        agent.username, "comment_replied", actor_id=agent.id, comment_id=comment_id,
        kind=body.kind,
    )  # fmt: skip
    return _shown(answered, knowledge)


@router.post("/api/comments/{comment_id}/dismiss")
async def dismiss(
    comment_id: RowId, session: Current, listening: Comments, knowledge: Knowledge, audit: Audit
) -> dict[str, Any]:
    """Agents: a new comment needs no answer (409 once answered, dismissed or removed)."""
    agent = session.agent
    try:
        dismissed = await listening.dismiss(comment_id)
    except ReplyError as exc:
        raise _refusal(exc) from exc
    await audit.record(
        agent.username, "comment_dismissed", actor_id=agent.id, comment_id=comment_id
    )
    return _shown(dismissed, knowledge)
