"""Editing knowledge-base articles from the workbench: text, buttons, source, review date.

An edit is validated like a file would be (:func:`bot.knowledge.articles.parse_article`), written in
place with a round-trip parser (templates, variants and comments are kept) and is live without
retraining (the assistant reloads changed articles). The version it replaces is kept in the
database with its author and time; so is every article a zip upload or a restore changes
(:meth:`KnowledgeEditor.keep_versions`). Previews show what each channel would send, with its
limits: the channels' own renderers, which the app hands to the editor (the workbench does not
import the connectors).

No edit is lost to another: an edit names the version of the file it was made on (its
:func:`version_of`, which every read returns), and one made on a version that is no longer the
file's — someone else saved in between, or an upload changed it — is refused with
:class:`StaleVersion`, which carries the current text. Saves, annotations, uploads and restores
take turns through :attr:`KnowledgeEditor.writing`, so nothing changes a file between the check
and the write.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.channel import BotMessage
from bot.knowledge.articles import Article, KnowledgeError, parse_article
from bot.storage.tables import ArticleVersion
from bot.storage.time import aware, utcnow
from bot.workbench.training_data import lists_indented, round_trip_yaml

#: A channel's renderer (``Channel.render``): bot messages → the platform's payloads.
Render = Callable[[list[BotMessage], str], list[dict[str, Any]]]

#: Each platform's limits, shown next to the preview.
LIMITS = {
    "webchat": {"text": 4096, "buttons": 3, "button_title": 60},
    "messenger": {"text": 2000, "buttons": 3, "button_title": 20},
    "whatsapp": {"text": 4096, "buttons": 3, "button_title": 20},
}

article_versions = ArticleVersion.__table__


class EditRefused(ValueError):
    def __init__(self, code: str, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems or []


class StaleVersion(EditRefused):
    """The edit was made on an earlier version of the article: ``current`` is the file now."""

    def __init__(self, current: str) -> None:
        super().__init__(
            "stale_version",
            "Alguien cambió este artículo mientras lo editabas: nada se guardó. Compara tu "
            "texto con el actual y vuelve a guardar.",
        )
        self.current = current
        self.version = version_of(current)


def version_of(content: str) -> str:
    """The version of an article's file: a digest of its content."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Version:
    id: int
    author: str
    created_at: dt.datetime
    content: str


class KnowledgeEditor:
    def __init__(
        self,
        engine: AsyncEngine,
        directory: Path,
        review_days: int,
        renderers: Mapping[str, Render] | None = None,
    ) -> None:
        self._engine = engine
        self.directory = directory
        self.review_days = review_days
        #: The platforms previews show besides the web chat (name → its channel's renderer).
        self.renderers = dict(renderers or {})
        #: Held while the workbench writes the project's files (article edits, annotations,
        #: zip uploads, restores): one writer at a time, between its check and its write.
        self.writing = asyncio.Lock()

    def path(self, article_id: str) -> Path:
        path = self.directory / f"{article_id}.yml"
        if not article_id.replace("_", "").isalnum() or not path.is_file():
            raise EditRefused("not_found", "No existe ese artículo.")
        return path

    def overdue(self, reviewed: dt.date, today: dt.date | None = None) -> bool:
        """Past its review date: reviewed longer ago than the review period."""
        return (today or dt.date.today()) - reviewed > dt.timedelta(days=self.review_days)

    def read(self, article_id: str) -> tuple[str, Article | None]:
        """The article's file and the article it holds (``None`` when the file is not valid:
        the assistant keeps answering with the last good one)."""
        path = self.path(article_id)
        content = path.read_text(encoding="utf-8")
        try:
            return content, parse_article(yaml.safe_load(content), path)
        except (KnowledgeError, yaml.YAMLError):
            return content, None

    async def save(
        self, article_id: str, changes: dict[str, Any], author: str, version: str
    ) -> str:
        """Apply ``changes`` (title, answer, buttons, source, reviewed, variants) to the
        article's file made on ``version``; keep the previous version. Returns the new content.
        :class:`StaleVersion` when the file is no longer that version."""
        async with self.writing:
            return await self._save(article_id, changes, author, version)

    async def _save(
        self, article_id: str, changes: dict[str, Any], author: str, version: str
    ) -> str:
        path = self.path(article_id)
        before = path.read_text(encoding="utf-8")
        if version != version_of(before):
            raise StaleVersion(before)
        nested = lists_indented(before)
        try:
            data = round_trip_yaml(nested).load(before)
        except YAMLError as exc:
            data = exc
        if not isinstance(data, CommentedMap):  # broken by hand: fixed in the file, not here
            raise EditRefused(
                "invalid_article", f"El archivo {path.name} no es un artículo legible."
            )
        if "title" in changes:
            data["title"] = str(changes["title"]).strip()
        if "answer" in changes:
            data["answer"] = LiteralScalarString(str(changes["answer"]).strip() + "\n")
        if "reviewed" in changes:
            data["reviewed"] = changes["reviewed"]
        if "buttons" in changes:
            data["buttons"] = CommentedSeq(
                [CommentedMap(title=b["title"], payload=b["payload"]) for b in changes["buttons"]]
            )
        if "source" in changes:
            data["source"] = CommentedMap(name=changes["source"]["name"],
                                          url=changes["source"]["url"])  # fmt: skip
        if "variants" in changes:
            variants = CommentedMap()
            for channel, text in changes["variants"].items():
                if text and str(text).strip():
                    variants[channel] = LiteralScalarString(str(text).strip() + "\n")
            if variants:
                data["variants"] = variants
            else:
                data.pop("variants", None)
        out = io.StringIO()
        round_trip_yaml(nested).dump(data, out)
        content = out.getvalue()
        try:  # validated exactly as the assistant will load it
            parse_article(yaml.safe_load(content), path)
        except KnowledgeError as exc:
            problems = [p.replace(str(path), path.name) for p in exc.problems]
            raise EditRefused("invalid_article", "El artículo no es válido.", problems) from exc
        if content == before:
            return content
        async with self._engine.begin() as db:
            await db.execute(
                insert(ArticleVersion).values(
                    article_id=article_id, content=before, author=author, created_at=utcnow()
                )
            )
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)
        return content

    async def keep_versions(self, replaced: Mapping[str, str], author: str) -> None:
        """Keep the text each article had before something else (an upload, a restore)
        changed or removed it."""
        if not replaced:
            return
        now = utcnow()
        async with self._engine.begin() as db:
            await db.execute(
                insert(ArticleVersion),
                [
                    {"article_id": a, "content": c, "author": author, "created_at": now}
                    for a, c in sorted(replaced.items())
                ],
            )

    async def versions(self, article_id: str) -> list[Version]:
        async with self._engine.connect() as db:
            rows = (
                await db.execute(
                    select(*article_versions.c)
                    .where(article_versions.c.article_id == article_id)
                    .order_by(article_versions.c.id.desc())
                )
            ).all()
        return [Version(r.id, r.author, aware(r.created_at) or utcnow(), r.content) for r in rows]

    def preview(self, answer: str, buttons: list[dict[str, str]]) -> dict[str, Any]:
        """:func:`preview` with the app's renderers."""
        return preview(answer, buttons, self.renderers)


def preview(
    answer: str, buttons: list[dict[str, str]], renderers: Mapping[str, Render]
) -> dict[str, Any]:
    """What each channel sends for this answer (the web chat shows it as it is; the others as
    their ``renderers`` make it), and where it goes over a platform's limit."""
    message: BotMessage = {"text": answer, "buttons": buttons}
    shown = {
        "webchat": [message],
        **{name: render([message], "preview") for name, render in renderers.items()},
    }
    warnings: dict[str, list[str]] = {}
    for channel, limits in LIMITS.items():
        found = []
        if len(answer) > limits["text"]:
            found.append(
                f"El texto tiene {len(answer)} caracteres: se enviará en varias partes "
                f"(máximo {limits['text']} por mensaje)."
            )
        for button in buttons:
            if len(button["title"]) > limits["button_title"]:
                found.append(
                    f"El botón «{button['title']}» pasa de {limits['button_title']} caracteres: "
                    "se mostrará recortado."
                )
        warnings[channel] = found
    return {"channels": shown, "warnings": warnings, "limits": LIMITS}
