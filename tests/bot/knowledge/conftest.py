"""For the shared code's tests, which run on both interpreters: the gateway's (``make unit``,
where ``tests/conftest.py`` applies as well) and the engine's Python 3.10 (``make unit-engine``,
where it does not: it needs the gateway's packages). So this file, like the tests beside it,
uses only the standard library, PyYAML, psycopg2 and pytest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

#: The settings bot.knowledge reads from the environment (its data directories).
KNOWLEDGE_SETTINGS = ("KNOWLEDGE_DIR", "TAX_RULES_DIR", "CRONOGRAMA_DIR", "HANDOFF_DIR")


@pytest.fixture(autouse=True)
def _isolated_knowledge(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No data directory leaks in from the developer's environment; run from an empty directory."""
    for name in KNOWLEDGE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield
