"""When the actions ask the gateway for a person (``custom.handoff``), and when they do not."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker, user_event

from actions.handoff import ActionDerivar
from actions.knowledge_answers import ActionAnswer, ActionClarify
from bot import contract
from bot.contract import Clarification, HandoffRequest
from bot.knowledge.handoff_rules import Escalation, HandoffRules


def run(action: Action, t: Tracker) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    assert asyncio.run(action.run(dispatcher, t, {})) == []
    return dispatcher.messages


@pytest.fixture()
def rules(handoff_dir: Path) -> Escalation:
    return HandoffRules.load(handoff_dir).escalation


def answer_of(knowledge_dir: Path, article_id: str) -> str:
    path = knowledge_dir / f"{article_id}.yml"
    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["answer"]).strip()


@pytest.mark.parametrize(
    ("intent", "reason"), [("pedir_humano", "pedido"), ("frustracion", "frustracion")]
)
def test_asking_for_a_person_or_frustration_hands_over_with_only_the_request(
    rules: Escalation, intent: str, reason: str
) -> None:
    [message] = run(ActionDerivar(), tracker(intent, confidence=0.912345))
    assert message["text"] is None and message["buttons"] == []
    assert message["custom"] == {
        "handoff": {
            "reason": reason,
            "team": rules.default_team,
            "intent": intent,
            "confidence": 0.9123,
        }
    }


def test_a_topic_for_a_person_hands_over_after_its_article(
    knowledge_dir: Path, rules: Escalation
) -> None:
    intent, team = next(iter(rules.topics.items()))
    [message] = run(ActionAnswer(), tracker(intent))
    assert message["text"] == answer_of(knowledge_dir, intent)
    assert message["buttons"]
    assert {k: v for k, v in message["custom"].items() if k != "article"} == {
        "handoff": {"reason": "tema", "team": team, "intent": intent, "confidence": 0.9}
    }


def test_other_topics_are_answered_without_a_handoff(
    knowledge_dir: Path, rules: Escalation
) -> None:
    assert "igv" not in rules.topics
    [message] = run(ActionAnswer(), tracker("igv"))
    assert message["text"] == answer_of(knowledge_dir, "igv")
    assert message["custom"].get("handoff") is None


def test_the_same_question_repeat_limit_times_in_a_row_hands_over(
    knowledge_dir: Path, rules: Escalation
) -> None:
    earlier = ["igv"] * (rules.repeat_limit - 1)
    [message] = run(ActionAnswer(), tracker("igv", previous_intents=earlier))
    assert message["text"] == answer_of(knowledge_dir, "igv")
    assert {k: v for k, v in message["custom"].items() if k != "article"} == {
        "handoff": {
            "reason": "repite",
            "team": rules.default_team,
            "intent": "igv",
            "confidence": 0.9,
        }
    }


def test_one_repetition_less_does_not_hand_over(knowledge_dir: Path, rules: Escalation) -> None:
    earlier = ["saludo"] + ["igv"] * (rules.repeat_limit - 2)
    [message] = run(ActionAnswer(), tracker("igv", previous_intents=earlier))
    assert message["custom"].get("handoff") is None


def test_an_other_question_in_between_breaks_the_repetition(
    knowledge_dir: Path, rules: Escalation
) -> None:
    earlier = ["igv"] * (rules.repeat_limit - 2) + ["uit", "igv"]
    [message] = run(ActionAnswer(), tracker("igv", previous_intents=earlier))
    assert message["custom"].get("handoff") is None


def test_intents_that_are_not_questions_never_count_as_repeated(
    knowledge_dir: Path, rules: Escalation
) -> None:
    intent = rules.not_repeated[0]
    earlier = [intent] * (rules.repeat_limit + 1)
    [message] = run(ActionAnswer(), tracker(intent, previous_intents=earlier))
    assert message["custom"].get("handoff") is None


def test_repetitions_of_an_earlier_session_do_not_count(
    knowledge_dir: Path, rules: Escalation
) -> None:
    t = tracker("igv", previous_intents=["igv"] * (rules.repeat_limit - 1))
    t.events.insert(len(t.events) - 1, {"event": "session_started"})
    [message] = run(ActionAnswer(), t)
    assert message["custom"].get("handoff") is None


def test_edited_topics_are_used_without_a_restart(knowledge_dir: Path, handoff_dir: Path) -> None:
    path = handoff_dir / "handoff.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["escalation"]["topics"]["detracciones"] = "atencion"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    [message] = run(ActionAnswer(), tracker("detracciones"))
    assert message["custom"]["handoff"]["reason"] == "tema"
    assert message["custom"]["handoff"]["team"] == "atencion"


def test_second_misunderstanding_in_a_row_hands_over_with_the_report(
    knowledge_dir: Path, rules: Escalation
) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "igv", "confidence": 0.23456},
        {"name": "uit", "confidence": 0.1},
    ]
    t = tracker("nlu_fallback", ranking, previous_intent="nlu_fallback")
    [message] = run(ActionClarify(), t)
    assert message["text"] == answer_of(knowledge_dir, "fallback")
    assert message["custom"]["clarification"]["offered"] == []
    assert message["custom"]["handoff"] == {
        "reason": "no_entiende",
        "team": rules.default_team,
        "intent": "igv",
        "confidence": 0.2346,
    }


def test_the_gateway_reads_what_the_actions_report(knowledge_dir: Path, rules: Escalation) -> None:
    """The reports as the gateway reads them (``bot/contract.py``, on both sides)."""
    [derivar] = run(ActionDerivar(), tracker("pedir_humano", confidence=0.5))
    assert HandoffRequest.read(derivar["custom"][contract.HANDOFF]) == HandoffRequest(
        contract.ASKED, rules.default_team, "pedir_humano", 0.5
    )
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "igv", "confidence": 0.2}]
    t = tracker("nlu_fallback", ranking, previous_intent="nlu_fallback")
    [message] = run(ActionClarify(), t)
    read = HandoffRequest.read(message["custom"][contract.HANDOFF])
    assert read is not None and read.reason == contract.NOT_UNDERSTOOD
    clarified = Clarification.read(message["custom"][contract.CLARIFICATION])
    assert clarified == Clarification(ranking, [], None)


def test_a_first_misunderstanding_does_not_hand_over(knowledge_dir: Path) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "igv", "confidence": 0.2}]
    for t in (
        tracker("nlu_fallback", ranking),
        tracker("nlu_fallback", ranking, previous_intent="igv"),
        # nothing to offer: the polite fallback, still no person
        tracker("nlu_fallback", [{"name": "nlu_fallback", "confidence": 0.9}], text="asdf"),
    ):
        [message] = run(ActionClarify(), t)
        assert set(message["custom"]) == {"clarification"}


def test_user_event_helper_keeps_the_shape_rasa_sends() -> None:
    assert user_event("hola", "saludo")["parse_data"]["intent"]["name"] == "saludo"


def test_an_articles_answer_names_the_article_so_it_can_be_rated(knowledge_dir: Path) -> None:
    [message] = run(ActionAnswer(), tracker("igv", text="que es el igv"))
    assert message["custom"] == {"article": "igv"}
    [fallback] = run(ActionAnswer(), tracker("nlu_fallback", text="xx"))
    assert "article" not in (fallback.get("custom") or {})
