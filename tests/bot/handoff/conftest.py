"""The console app with four accounts (two agents, a supervisor, an admin), shared by the tests
of its API and of its WebSocket."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.accounts.agents import Role
from bot.ops.settings import Settings
from bot.web.app import create_app
from tests.bot.handoff.console_app import PASSWORD, Engine


@pytest.fixture()
def engine() -> Engine:
    return Engine()


@pytest.fixture()
def handoff_limit() -> str:
    """LIMIT_HANDOFFS_PER_CONVERSATION of ``app_client`` (a test may parametrize it)."""
    return "3/hour"


@pytest.fixture()
def app_client(settings: Settings, engine: Engine, handoff_limit: str) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"limit_handoffs_per_conversation": handoff_limit})
    app = create_app(settings, transport=httpx.MockTransport(engine))
    with TestClient(app) as test_client:
        for name, role in (("ana", Role.AGENT), ("beto", Role.AGENT),
                           ("jefa", Role.SUPERVISOR), ("admin", Role.ADMIN)):  # fmt: skip
            test_client.portal.call(  # type: ignore[union-attr]
                app.state.desk.agents.create, name, PASSWORD, role, name.title(), "orientacion"
            )
        yield test_client
