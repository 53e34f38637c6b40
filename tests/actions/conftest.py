from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from actions import knowledge_answers
from bot.knowledge import KnowledgeStore

KNOWLEDGE = Path(__file__).resolve().parents[2] / "data" / "knowledge"


@pytest.fixture()
def knowledge_dir(tmp_path: Path) -> Path:
    """A private copy of the real knowledge base, injected into the actions."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    knowledge_answers.use_knowledge(KnowledgeStore(target, check_every=0.0))
    return target
