"""Which comments are flagged for staff: the rules are data (``data/listening/listening.yml``),
read once at start-up; a mistake in the file stops start-up with a message naming it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = "listening.yml"
#: Why a comment is flagged when its sentiment, not its topic, says so.
NEGATIVE = "negativo"


class RulesError(ValueError):
    """The rules file is missing or malformed (the message says where)."""


@dataclass(frozen=True)
class FlagRules:
    #: Intent → the reason shown to staff ("queja", "reclamo"…).
    complaint_topics: dict[str, str]
    min_topic_confidence: float
    flag_negative: bool

    def reason(
        self, topic: str | None, confidence: float | None, sentiment: str | None
    ) -> str | None:
        """Why a comment with this topic and sentiment is flagged; None when it is not."""
        if (
            topic in self.complaint_topics
            and confidence is not None
            and confidence >= self.min_topic_confidence
        ):
            return self.complaint_topics[topic]
        if self.flag_negative and sentiment == NEGATIVE:
            return NEGATIVE
        return None


def load_rules(directory: Path) -> FlagRules:
    path = directory / RULES_FILE
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected a mapping")
    topics = data.get("complaint_topics")
    if not isinstance(topics, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v and len(v) <= 40 for k, v in topics.items()
    ):
        raise RulesError(f"{path}: complaint_topics must map intents to reasons (≤ 40 characters)")
    confidence = data.get("min_topic_confidence")
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise RulesError(f"{path}: min_topic_confidence must be a number from 0 to 1")
    negative = data.get("flag_negative")
    if not isinstance(negative, bool):
        raise RulesError(f"{path}: flag_negative must be true or false")
    return FlagRules(dict(topics), float(confidence), negative)
