"""Knowledge base: the articles that hold every answer the assistant gives.

One YAML file per article in ``data/knowledge/<id>.yml``; the article's id is the Rasa intent it
answers. Articles are validated when loaded: a bad one is a :class:`KnowledgeError` naming the
file and the field. :class:`KnowledgeStore` reloads the directory when a file changes, so editing
an answer needs no retraining and no restart.

This module is shared by the gateway (Python >= 3.11) and the action server (Python 3.10, inside
the Rasa engine environment): it depends on the standard library and PyYAML only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import yaml

from bot.knowledge.watched_directory import WatchedDirectory

logger = logging.getLogger(__name__)

#: Limits that keep every answer deliverable on every channel (Messenger caps a quick reply
#: title at 20 characters; a button template's text at 640; WhatsApp's button title at 20).
MAX_TITLE_CHARS = 40
MAX_ANSWER_CHARS = 1000
MAX_BUTTONS = 3
MAX_BUTTON_TITLE_CHARS = 20
#: An answer opening with "Sí." or "No." answers one wording of a question and contradicts the
#: opposite one ("¿puedo compartir mi clave?" / "¿es riesgoso compartirla?"): refused.
_BARE_YES_NO = re.compile(r"\s*[*_]*(s[ií]|no)[*_]*\s*[.,;:!]", re.IGNORECASE)

#: Articles that answer no intent: used by the clarification step, the fallback and the gateway.
#: Channels an article may carry a variant of its answer for.
CHANNELS = ("webchat", "messenger", "whatsapp", "twilio")
SYSTEM_ARTICLES = (
    "aclarar",
    "fallback",
    "error_servicio",
    "adjunto_no_soportado",
    "derivacion",
    "valoracion",
    "satisfaccion",
)

_REQUIRED = ("id", "title", "answer", "source", "reviewed")


class KnowledgeError(ValueError):
    """One or more articles are invalid; the message names each file and field."""

    def __init__(self, problems: List[str]) -> None:
        self.problems = problems
        super().__init__("invalid knowledge base:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Source:
    name: str
    url: str


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    answer: str
    buttons: Tuple[Button, ...]
    source: Source
    reviewed: dt.date
    tags: Tuple[str, ...]
    #: Named answers with ``{placeholders}`` for answers an action computes (calculators,
    #: lookups): the wording stays data, the action fills in the figures.
    templates: Mapping[str, str] = dataclass_field(default_factory=dict)
    #: The answer written for one channel (e.g. shorter, with *bold*, for WhatsApp).
    variants: Mapping[str, str] = dataclass_field(default_factory=dict)

    def answer_for(self, channel: Optional[str]) -> str:
        """The channel's own version of the answer, or the common one (WhatsApp through Twilio
        takes the WhatsApp version)."""
        if channel == "twilio" and "twilio" not in self.variants:
            channel = "whatsapp"
        return self.variants.get(channel or "", self.answer)

    def render(self, template: str, **values: str) -> str:
        """One of the article's templates with its placeholders filled in."""
        return self.templates[template].format(**values).strip()

    def as_bot_message(self) -> Dict[str, Any]:
        """The article as one message in Rasa's REST-channel shape (``text`` + ``buttons``)."""
        message: Dict[str, Any] = {"text": self.answer}
        if self.buttons:
            message["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        return message


class _AnyValue(Dict[str, str]):
    """Fills any placeholder: used to check that a template's braces are well formed."""

    def __missing__(self, key: str) -> str:
        return ""


def _problem(path: Path, field: str, what: str) -> str:
    return f"{path}: field '{field}': {what}"


def _text(
    raw: Dict[str, Any],
    path: Path,
    field: str,
    limit: int,
    problems: List[str],
    label: Optional[str] = None,
) -> str:
    value = raw.get(field)
    field = label or field
    if not isinstance(value, str) or not value.strip():
        problems.append(_problem(path, field, "must be a non-empty string"))
        return ""
    value = value.strip()
    if len(value) > limit:
        problems.append(_problem(path, field, f"{len(value)} characters, at most {limit}"))
    return value


def parse_article(raw: Any, path: Path, today: Optional[dt.date] = None) -> Article:
    """Validate one article's parsed YAML; raise :class:`KnowledgeError` with every problem."""
    problems: List[str] = []
    if not isinstance(raw, dict):
        raise KnowledgeError([f"{path}: the file must hold a mapping of fields"])
    for field in _REQUIRED:
        if field not in raw:
            problems.append(_problem(path, field, "is missing"))
    known = set(_REQUIRED) | {"buttons", "tags", "templates", "variants"}
    for field in sorted(set(raw) - known):
        problems.append(_problem(path, str(field), "is not a known field"))

    article_id = _text(raw, path, "id", 64, problems)
    if article_id and article_id != path.stem:
        problems.append(_problem(path, "id", f"'{article_id}' must match the file name"))
    title = _text(raw, path, "title", MAX_TITLE_CHARS, problems)
    answer = _text(raw, path, "answer", MAX_ANSWER_CHARS, problems)

    buttons: List[Button] = []
    raw_buttons = raw.get("buttons") or []
    if not isinstance(raw_buttons, list):
        problems.append(_problem(path, "buttons", "must be a list"))
        raw_buttons = []
    if len(raw_buttons) > MAX_BUTTONS:
        problems.append(_problem(path, "buttons", f"{len(raw_buttons)} buttons, at most 3"))
    for i, item in enumerate(raw_buttons):
        field = f"buttons[{i}]"
        if not isinstance(item, dict):
            problems.append(_problem(path, field, "must have 'title' and 'payload'"))
            continue
        b_title = _text(item, path, "title", MAX_BUTTON_TITLE_CHARS, problems, f"{field}.title")
        payload = item.get("payload")
        if not isinstance(payload, str) or not payload.startswith("/") or len(payload) < 2:
            problems.append(_problem(path, f"{field}.payload", "must be '/<intent>'"))
            payload = ""
        buttons.append(Button(title=b_title, payload=payload))

    source = Source(name="", url="")
    raw_source = raw.get("source")
    if isinstance(raw_source, dict):
        name = raw_source.get("name")
        url = raw_source.get("url")
        if not isinstance(name, str) or not name.strip():
            problems.append(_problem(path, "source.name", "must name the official source"))
            name = ""
        if not isinstance(url, str) or not url.startswith("https://"):
            problems.append(_problem(path, "source.url", "must be an https:// URL"))
            url = ""
        source = Source(name=name.strip(), url=url)
    elif "source" in raw:
        problems.append(_problem(path, "source", "must have 'name' and 'url'"))

    reviewed = raw.get("reviewed")
    if isinstance(reviewed, str):
        with contextlib.suppress(ValueError):
            reviewed = dt.date.fromisoformat(reviewed)
    if not isinstance(reviewed, dt.date):
        if "reviewed" in raw:
            problems.append(_problem(path, "reviewed", "must be a date (YYYY-MM-DD)"))
        reviewed = dt.date.min
    elif reviewed > (today or dt.date.today()):
        problems.append(_problem(path, "reviewed", f"{reviewed} is in the future"))

    raw_tags = raw.get("tags") or []
    if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
        problems.append(_problem(path, "tags", "must be a list of words"))
        raw_tags = []

    templates: Dict[str, str] = {}
    raw_templates = raw.get("templates") or {}
    if not isinstance(raw_templates, dict):
        problems.append(_problem(path, "templates", "must map names to texts"))
        raw_templates = {}
    for name in raw_templates:
        text = _text(raw_templates, path, name, MAX_ANSWER_CHARS, problems, f"templates.{name}")
        try:
            text.format_map(_AnyValue())
        except (ValueError, IndexError):
            problems.append(_problem(path, f"templates.{name}", "has a malformed {placeholder}"))
        templates[str(name)] = text

    variants: Dict[str, str] = {}
    raw_variants = raw.get("variants") or {}
    if not isinstance(raw_variants, dict):
        problems.append(_problem(path, "variants", "must map channels to texts"))
        raw_variants = {}
    for channel in raw_variants:
        if channel not in CHANNELS:
            problems.append(_problem(path, f"variants.{channel}", f"not a channel {CHANNELS}"))
            continue
        limit = MAX_ANSWER_CHARS
        variants[str(channel)] = _text(
            raw_variants, path, channel, limit, problems, f"variants.{channel}"
        )

    for field, text in [("answer", answer)] + [(f"variants.{c}", t) for c, t in variants.items()]:
        if _BARE_YES_NO.match(text or ""):
            problems.append(
                _problem(
                    path,
                    field,
                    "starts with a bare yes or no: state the fact, so that it reads right for "
                    "«¿puedo…?» and for «¿es riesgoso…?» alike",
                )
            )

    if problems:
        raise KnowledgeError(problems)
    return Article(
        id=article_id,
        title=title,
        answer=answer,
        buttons=tuple(buttons),
        source=source,
        reviewed=reviewed,
        tags=tuple(raw_tags),
        templates=templates,
        variants=variants,
    )


class KnowledgeBase:
    """An immutable, validated set of articles keyed by id."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self._articles = {a.id: a for a in articles}

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    def __len__(self) -> int:
        return len(self._articles)

    def get(self, article_id: str) -> Optional[Article]:
        return self._articles.get(article_id)

    def require(self, article_id: str) -> Article:
        article = self._articles.get(article_id)
        if article is None:
            raise KeyError(f"knowledge base has no article '{article_id}'")
        return article

    @property
    def articles(self) -> List[Article]:
        return sorted(self._articles.values(), key=lambda a: a.id)


def load_knowledge(directory: Path, today: Optional[dt.date] = None) -> KnowledgeBase:
    """Load and validate every ``*.yml`` article in ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeError([f"{directory}: knowledge directory not found"])
    problems: List[str] = []
    articles: List[Article] = []
    for path in sorted(directory.glob("*.yml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path}: not valid YAML: {exc}".replace("\n", " "))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            # e.g. removed between listing and reading (an editor's atomic save), not UTF-8
            problems.append(f"{path}: cannot be read: {exc}")
            continue
        try:
            articles.append(parse_article(raw, path, today))
        except KnowledgeError as exc:
            problems.extend(exc.problems)
    missing = [a for a in SYSTEM_ARTICLES if a not in {x.id for x in articles}]
    if not problems and missing:
        problems.append(f"{directory}: missing system articles: {', '.join(missing)}")
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(articles)


class KnowledgeStore(WatchedDirectory[KnowledgeBase]):
    """The current knowledge base, reloaded when a file in the directory changes.

    Files are checked at most every ``check_every`` seconds. An edit that breaks validation is
    logged and the last good knowledge base keeps answering.
    """

    def __init__(self, directory: Path, check_every: float = 2.0) -> None:
        super().__init__(
            directory, "*.yml", load_knowledge, (KnowledgeError,), "knowledge base", check_every
        )

    @classmethod
    def from_env(cls) -> KnowledgeStore:
        default = Path(__file__).resolve().parents[2] / "data" / "knowledge"
        return cls(Path(os.environ.get("KNOWLEDGE_DIR", str(default))))
