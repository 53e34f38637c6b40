"""Shared by every gateway test: no setting leaks in from the developer's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.ops.processes import free_port
from bot.ops.settings import Settings
from bot.web.app import create_app
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integrator import API_KEY

#: Every gateway setting, and the engine settings that pass through the environment.
SETTING_NAMES = (
    *(name.upper() for name in Settings.model_fields),
    "TRACKER_STORE_HOST", "TRACKER_STORE_PORT", "TRACKER_STORE_DB", "TRACKER_STORE_USER",
    "TRACKER_STORE_PASSWORD", "LOCK_STORE_HOST", "LOCK_STORE_PORT", "LOCK_STORE_DB",
    "KNOWLEDGE_DIR", "NLU_MIN_MACRO_F1", "TAX_RULES_DIR", "CRONOGRAMA_DIR", "NLU_DIR", "PADRON_URL",
    "TRANSPARENCY_URL",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    # pydantic-settings reads .env from the working directory: run from an empty one.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings whose Rasa and action server are down (nothing listens on their ports)."""
    return Settings(
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="unit-test-token-0123456789",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        rasa_timeout_seconds=2.0,
        webchat_api_keys=[API_KEY],  # tests that name a conversation call as an integrator
    )


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture()
def graph() -> Iterator[FakeGraphApi]:
    """A local fake of Meta's Graph API (Send API and WhatsApp Cloud API)."""
    fake = FakeGraphApi().start()
    yield fake
    fake.stop()


@pytest.fixture()
def twilio_api() -> Iterator[FakeTwilioApi]:
    """A local fake of Twilio's Messages REST API."""
    fake = FakeTwilioApi().start()
    yield fake
    fake.stop()
