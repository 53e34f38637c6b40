"""Which comments are flagged: the shipped rules name real intents; complaints by topic (when
the NLU is sure enough), anything negative by sentiment; a broken rules file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.listening.rules import RULES_FILE, FlagRules, RulesError, load_rules
from bot.ops.settings import ROOT

SHIPPED = ROOT / "data" / "listening"


def test_the_shipped_complaint_topics_are_intents_of_the_assistant() -> None:
    rules = load_rules(SHIPPED)
    intents = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    assert rules.complaint_topics and set(rules.complaint_topics) <= intents
    assert {"quejas_sugerencias", "libro_reclamaciones", "frustracion"} <= set(
        rules.complaint_topics
    )


def test_complaints_by_topic_and_negative_comments_are_flagged() -> None:
    rules = FlagRules({"quejas_sugerencias": "queja"}, 0.5, flag_negative=True)
    assert rules.reason("quejas_sugerencias", 0.8, "neutral") == "queja"
    assert rules.reason("quejas_sugerencias", 0.4, "neutral") is None  # the NLU is unsure
    assert rules.reason("quejas_sugerencias", None, "negativo") == "negativo"
    assert rules.reason("ruc_que_es", 0.99, "negativo") == "negativo"
    assert rules.reason("ruc_que_es", 0.99, "positivo") is None
    assert rules.reason(None, None, None) is None
    quiet = FlagRules({}, 0.5, flag_negative=False)
    assert quiet.reason("ruc_que_es", 0.99, "negativo") is None


@pytest.mark.parametrize(
    "text",
    [
        "complaint_topics: [quejas]\nmin_topic_confidence: 0.5\nflag_negative: true",
        "complaint_topics: {quejas: queja}\nmin_topic_confidence: 2\nflag_negative: true",
        "complaint_topics: {quejas: queja}\nmin_topic_confidence: 0.5\nflag_negative: si",
        "- not a mapping",
        "complaint_topics: {a: [b",
    ],
)
def test_a_broken_rules_file_is_refused_naming_it(tmp_path: Path, text: str) -> None:
    (tmp_path / RULES_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=RULES_FILE):
        load_rules(tmp_path)


def test_a_missing_rules_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=RULES_FILE):
        load_rules(tmp_path)
