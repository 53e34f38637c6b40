from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from actions import handoff, knowledge_answers
from bot.knowledge.articles import KnowledgeStore
from bot.knowledge.handoff_rules import HandoffRulesStore

DATA = Path(__file__).resolve().parents[2] / "data"
KNOWLEDGE = DATA / "knowledge"


@pytest.fixture()
def knowledge_dir(tmp_path: Path) -> Path:
    """A private copy of the real knowledge base, injected into the actions."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    knowledge_answers.use_knowledge(KnowledgeStore(target, check_every=0.0))
    return target


@pytest.fixture(autouse=True)
def handoff_dir(tmp_path: Path) -> Path:
    """A private copy of the real handoff rules, injected into the actions."""
    target = tmp_path / "handoff"
    shutil.copytree(DATA / "handoff", target)
    handoff.use_handoff_rules(HandoffRulesStore(target, check_every=0.0))
    return target
