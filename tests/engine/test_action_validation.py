"""Runs in the engine environment (make unit-engine): the patch of Rasa's response check."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.engine import action_validation


@pytest.fixture(scope="module")
def action() -> RemoteAction:
    action_validation.install()
    action_validation.install()  # idempotent
    return RemoteAction("action_answer", None)


def test_valid_response_is_accepted(action: RemoteAction) -> None:
    result = {
        "events": [{"event": "slot", "name": "ruc", "value": "x"}],
        "responses": [{"text": "hola"}],
    }
    assert action._validate_action_result(result) is True


@pytest.mark.parametrize(
    "result",
    [
        {"responses": "no es una lista"},
        {"events": "tampoco"},
        {"events": [{"event": "slot", "name": 5}]},
        [],
    ],
)
def test_invalid_response_is_refused_with_rasas_own_error(
    action: RemoteAction, result: object
) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(result)  # type: ignore[arg-type]
