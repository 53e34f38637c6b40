"""What the action server and the gateway tell each other (``bot/contract.py``): what one side
writes, the other reads back the same; what the gateway does not recognise, it ignores."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from bot import contract
from bot.contract import Clarification, HandoffRequest
from bot.conversation.channel import BotMessage
from bot.conversation.rasa_client import take_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "request_",
    [
        HandoffRequest(contract.ASKED, "orientacion", "pedir_humano", 0.97),
        HandoffRequest(contract.NOT_UNDERSTOOD, "orientacion", "igv", 0.0),
        HandoffRequest(contract.TOPIC, None, None, None),
    ],
)
def test_a_handoff_request_reads_back_as_written(request_: HandoffRequest) -> None:
    custom = request_.as_custom()
    assert set(custom) == {contract.HANDOFF}
    assert HandoffRequest.read(custom[contract.HANDOFF]) == request_


@pytest.mark.parametrize(
    "raw",
    [None, "pedido", [], {}, {"reason": "porque_si"}, {"team": "orientacion"}],
)
def test_what_is_not_a_handoff_request_is_ignored(raw: Any) -> None:
    assert HandoffRequest.read(raw) is None


def test_fields_of_the_wrong_type_are_left_out() -> None:
    raw = {"reason": "pedido", "team": 3, "intent": ["igv"], "confidence": "alta"}
    assert HandoffRequest.read(raw) == HandoffRequest("pedido", None, None, None)
    assert HandoffRequest.read({"reason": "tema", "confidence": 1}) == HandoffRequest(
        "tema", None, None, 1.0
    )


def test_every_reason_is_known_once() -> None:
    assert len(set(contract.REASONS)) == len(contract.REASONS) == 5


@pytest.mark.parametrize(
    "clarified",
    [
        Clarification([{"name": "nlu_fallback", "confidence": 0.7}]),
        Clarification([{"name": "igv", "confidence": 0.4}], ["/igv", "/uit"]),
        Clarification([], ["/igv"], "igv"),
    ],
)
def test_a_clarification_reads_back_as_written(clarified: Clarification) -> None:
    custom = clarified.as_custom()
    assert set(custom) == {contract.CLARIFICATION}
    assert ("answered" in custom[contract.CLARIFICATION]) == (clarified.answered is not None)
    assert Clarification.read(custom[contract.CLARIFICATION]) == clarified


def test_a_clarification_keeps_only_well_formed_entries() -> None:
    raw = {"intents": [{"name": "igv"}, "igv", None], "offered": ["/igv", 3], "answered": 1}
    assert Clarification.read(raw) == Clarification([{"name": "igv"}], ["/igv"], None)
    assert Clarification.read("igv") is None
    assert Clarification.read({}) == Clarification([], [], None)


def test_the_engines_request_is_taken_out_of_the_replies() -> None:
    replies: list[BotMessage] = [
        {"recipient_id": "x", "text": "Respuesta", "custom": {"handoff": {
            "reason": "tema", "team": "atencion", "intent": "quejas_sugerencias",
            "confidence": 0.91}}},
        {"recipient_id": "x", "custom": {"handoff": {"reason": "pedido"}}},
    ]  # fmt: skip
    kept, raw = take_report(replies, contract.HANDOFF)
    assert kept == [{"recipient_id": "x", "text": "Respuesta"}]
    assert HandoffRequest.read(raw) == HandoffRequest("pedido", None, None, None)
    _, bogus = take_report([{"custom": {"handoff": {"reason": "porque_si"}}}], contract.HANDOFF)
    assert HandoffRequest.read(bogus) is None


def test_the_engines_conversation_id_names_the_channel() -> None:
    assert contract.engine_sender_id("webchat", "sesion-1") == "webchat:sesion-1"


def test_the_contract_needs_nothing_but_the_standard_library() -> None:
    """The action server (Python 3.10, Rasa's environment) imports it."""
    tree = ast.parse((ROOT / "bot" / "contract.py").read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0] for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }  # fmt: skip
    assert imported <= {"__future__", "dataclasses", "json", "typing"}


def test_gateway_payloads_are_read_with_their_arguments() -> None:
    assert contract.gateway_payload("/solicitud_nueva") == ("/solicitud_nueva", {})
    assert contract.gateway_payload('/evento_inscribir{"evento": 12}') == (
        "/evento_inscribir",
        {"evento": 12},
    )
    # Broken or non-object arguments: the payload without them (the service asks again).
    assert contract.gateway_payload("/evento_inscribir{12") == ("/evento_inscribir", {})
    assert contract.gateway_payload("/evento_inscribir[1]") is None
    assert contract.gateway_payload('/satisfaccion"x"') is None
    assert contract.gateway_payload("/evento_inscribir[1]") is None
    # Intents and words are the engine's.
    assert contract.gateway_payload("/saludo") is None
    assert contract.gateway_payload("/solicitud_nueva_x") is None
    assert contract.gateway_payload("quiero poner una queja") is None
