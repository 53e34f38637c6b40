from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.ops.settings import Settings


def test_rasa_token_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="rasa_token"):
        Settings()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_TOKEN", "a-long-enough-secret-token")
    monkeypatch.setenv("RASA_URL", "http://rasa.internal:5005/")
    monkeypatch.setenv("GATEWAY_PORT", "9000")
    settings = Settings()
    assert settings.rasa_url == "http://rasa.internal:5005"
    assert settings.gateway_port == 9000
    assert "a-long-enough" not in repr(settings)


@pytest.mark.parametrize("token", ["changeme", "short"])
def test_production_refuses_placeholder_secrets(
    monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("RASA_TOKEN", token)
    with pytest.raises(ValidationError, match="RASA_TOKEN must be a real secret"):
        Settings()


def test_urls_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_TOKEN", "a-long-enough-secret-token")
    monkeypatch.setenv("ACTION_SERVER_URL", "localhost:5055")
    with pytest.raises(ValidationError, match="action_server_url"):
        Settings()


@pytest.mark.parametrize("name", ["META_APP_SECRET", "MESSENGER_VERIFY_TOKEN", "TWILIO_AUTH_TOKEN"])
def test_production_refuses_placeholder_channel_secrets(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("RASA_TOKEN", "a-long-enough-secret-token")
    monkeypatch.setenv("SECURE_COOKIES", "true")
    monkeypatch.setenv(name, "changeme")
    with pytest.raises(ValidationError, match=f"{name} must be a real secret"):
        Settings()


def test_production_requires_secure_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("RASA_TOKEN", "a-long-enough-secret-token")
    with pytest.raises(ValidationError, match="SECURE_COOKIES must be true in production"):
        Settings()
    monkeypatch.setenv("SECURE_COOKIES", "false")
    with pytest.raises(ValidationError, match="SECURE_COOKIES must be true in production"):
        Settings()
    monkeypatch.setenv("SECURE_COOKIES", "true")
    assert Settings().secure_cookies
    # Development over plain HTTP keeps working.
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("SECURE_COOKIES", "false")
    assert not Settings().secure_cookies


@pytest.mark.parametrize(
    ("environment", "api_docs", "enabled"),
    [
        ("development", None, True),
        ("production", None, False),
        ("production", "true", True),
        ("development", "false", False),
    ],
)
def test_api_docs_follow_the_environment_unless_set(
    monkeypatch: pytest.MonkeyPatch, environment: str, api_docs: str | None, enabled: bool
) -> None:
    monkeypatch.setenv("ENVIRONMENT", environment)
    monkeypatch.setenv("RASA_TOKEN", "a-long-enough-secret-token")
    monkeypatch.setenv("SECURE_COOKIES", "true")
    if api_docs is not None:
        monkeypatch.setenv("API_DOCS", api_docs)
    assert Settings().docs_enabled is enabled
