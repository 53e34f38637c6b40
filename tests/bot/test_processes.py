from __future__ import annotations

import pytest

from bot.processes import free_ports, gateway_process_environ
from bot.settings import Settings


def test_gateway_child_gets_exactly_the_parents_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        _env_file=None,
        rasa_token="a-long-enough-secret-token",
        gateway_port=9123,
        rasa_endpoints="endpoints.scale.yml",
        webchat_allowed_origins=["https://www.gob.pe"],
    )
    for name, value in gateway_process_environ(settings).items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == settings


def test_free_ports_are_distinct() -> None:
    for _ in range(50):
        ports = free_ports(3)
        assert len(set(ports)) == 3
