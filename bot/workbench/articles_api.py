"""The workbench's knowledge-base editor (``/api/admin/articles…``): the list with overdue
reviews, an article as its file is now, edits checked against the version they were made on
(a stale one is a 409 holding both texts), earlier versions, previews per channel.

Admins only, through the console's sessions and audit log (:mod:`bot.web.deps`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from bot.accounts.agents import Role
from bot.knowledge.articles import (
    MAX_ANSWER_CHARS,
    MAX_BUTTON_TITLE_CHARS,
    MAX_TITLE_CHARS,
    Article,
    KnowledgeStore,
)
from bot.web.deps import Audit, ConsoleError, Current, Knowledge, RowId, from_state, require
from bot.workbench.article_editor import EditRefused, KnowledgeEditor, StaleVersion, version_of

#: The app's article editor; its ``writing`` lock is the one every project write holds.
Editor = Annotated[KnowledgeEditor, Depends(from_state("knowledge_editor"))]

router = APIRouter(tags=["admin workbench"])


class ButtonIn(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_BUTTON_TITLE_CHARS)
    payload: str = Field(min_length=1, max_length=200)


class SourceIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    url: str = Field(pattern=r"^https://", max_length=300)


class ArticleEdit(BaseModel):
    """The same limits as an article file (``bot/knowledge/articles.py``), and the version
    edited."""

    version: str = Field(
        min_length=1,
        max_length=64,
        description="The article's ``version`` as read (GET): a save made on an older one is "
        "refused with 409",
    )
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    answer: str | None = Field(default=None, min_length=1, max_length=MAX_ANSWER_CHARS)
    buttons: list[ButtonIn] | None = Field(default=None, max_length=3)
    source: SourceIn | None = None
    reviewed: dt.date | None = None
    variants: dict[Literal["webchat", "messenger", "whatsapp", "twilio"], str] | None = None


class PreviewButton(BaseModel):
    # Longer than an article allows: the preview says how each platform would cut it.
    title: str = Field(min_length=1, max_length=80)
    payload: str = Field(min_length=1, max_length=200)


class PreviewBody(BaseModel):
    # A channel's own version of an answer may be longer than the common one: up to 4,096.
    answer: str = Field(min_length=1, max_length=4096)
    buttons: list[PreviewButton] = Field(default_factory=list, max_length=3)


@router.get("/api/admin/articles")
async def articles(session: Current, editor: Editor, knowledge: Knowledge) -> list[dict[str, Any]]:
    """Every article with its source and review date; ``overdue`` when past its review."""
    require(session, Role.ADMIN)
    return [
        {
            "id": a.id,
            "title": a.title,
            "reviewed": a.reviewed.isoformat(),
            "overdue": editor.overdue(a.reviewed),
            "source": a.source.url,
            "tags": list(a.tags),
        }
        for a in knowledge.current.articles
    ]


def _article_fields(found: Article, version: str) -> dict[str, Any]:
    return {
        "id": found.id,
        "version": version,
        "title": found.title,
        "answer": found.answer,
        "buttons": [{"title": b.title, "payload": b.payload} for b in found.buttons],
        "source": {"name": found.source.name, "url": found.source.url},
        "reviewed": found.reviewed.isoformat(),
        "variants": dict(found.variants),
    }


def _current_article(
    editor: KnowledgeEditor, knowledge: KnowledgeStore, article_id: str
) -> dict[str, Any]:
    """The article as its file is now, with the file's version (the gateway's last good copy
    when the file was broken by hand)."""
    try:
        content, found = editor.read(article_id)
    except EditRefused as exc:
        raise ConsoleError(404, "not_found", "No existe ese artículo.") from exc
    found = found or knowledge.current.get(article_id)
    if found is None:
        raise ConsoleError(404, "not_found", "No existe ese artículo.")
    return {**_article_fields(found, version_of(content)), "templates": sorted(found.templates)}


@router.get("/api/admin/articles/{article_id}")
async def article(
    article_id: str, session: Current, editor: Editor, knowledge: Knowledge
) -> dict[str, Any]:
    """The article as its file is now; ``version`` is what an edit of it must send back."""
    require(session, Role.ADMIN)
    shown = _current_article(editor, knowledge, article_id)
    versions = await editor.versions(article_id)
    return {
        **shown,
        "overdue": editor.overdue(dt.date.fromisoformat(shown["reviewed"])),
        "versions": [
            {"id": v.id, "author": v.author, "at": v.created_at.isoformat()} for v in versions
        ],
    }


@router.put("/api/admin/articles/{article_id}")
async def edit_article(
    article_id: str,
    body: ArticleEdit,
    session: Current,
    editor: Editor,
    knowledge: Knowledge,
    audit: Audit,
) -> dict[str, Any]:
    """Change an article made on its ``version``; live at once (no retraining); the previous
    version is kept. An edit of an older version (someone saved, or an upload changed the
    article, since it was read) is refused with 409 ``stale_version``: nothing is written and
    the answer holds ``current`` (the article now, with its version) and ``sent`` (the edit)."""
    require(session, Role.ADMIN)
    changes = body.model_dump(mode="json", exclude_none=True, exclude={"version"})
    try:
        await editor.save(
            article_id, body.model_dump(exclude_none=True, exclude={"version"}),
            session.agent.username, body.version,
        )  # fmt: skip
    except StaleVersion as exc:
        # The answer holds the article now and the edit sent: both texts to compare.
        raise ConsoleError(
            409, exc.code, exc.message,
            current=_current_article(editor, knowledge, article_id), sent=changes,
        ) from exc  # fmt: skip
    knowledge.refresh()  # live now in the gateway; the actions follow
    await audit.record(
        session.agent.username,
        "article_edited",
        actor_id=session.agent.id,
        article=article_id,
        fields=sorted(changes),
    )
    return await article(article_id, session, editor, knowledge)


@router.get(
    "/api/admin/articles/{article_id}/versions/{version_id}", response_class=PlainTextResponse
)
async def article_version(
    article_id: str, version_id: RowId, session: Current, editor: Editor
) -> str:
    """An earlier version of the article's file, as it was."""
    require(session, Role.ADMIN)
    for version in await editor.versions(article_id):
        if version.id == version_id:
            return version.content
    raise ConsoleError(404, "not_found", "No existe esa versión.")


@router.post("/api/admin/articles/preview")
async def preview_article(body: PreviewBody, session: Current, editor: Editor) -> dict[str, Any]:
    """What web chat, Messenger and WhatsApp would show, with each platform's limits."""
    require(session, Role.ADMIN)
    return editor.preview(body.answer, [b.model_dump() for b in body.buttons])
