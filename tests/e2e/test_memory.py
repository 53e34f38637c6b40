"""End to end: what the citizen said is remembered within a session and forgotten after
SESSION_IDLE_MINUTES without messages (the gateway's clock restarts the engine's session)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.stack import Stack, stop

pytestmark = pytest.mark.e2e
CRONOGRAMA = load_knowledge(ROOT / "data" / "knowledge").require("cronograma")


def test_a_ruc_given_earlier_is_used_until_the_session_expires(tmp_path: Path) -> None:
    idle_seconds = 4
    stack = Stack.on_free_ports(tmp_path, session_idle_minutes=idle_seconds / 60)
    children = stack.start_all()
    try:
        stack.wait_healthy()
        stack.chat("memoria", "hola, mi ruc es 20416715301")
        reply = stack.chat("memoria", "y cuando declaro?")[0]["text"]
        # The 2026 calendar is shipped: the due date for the remembered RUC's last digit.
        assert reply.startswith("Tu RUC termina en 1 (grupo 1). La declaración y pago del periodo")
        assert "vence el" in reply
        time.sleep(idle_seconds + 1)
        reply = stack.chat("memoria", "y cuando declaro?")[0]["text"]
        assert reply == CRONOGRAMA.answer  # the RUC is forgotten: the calendar is explained
    finally:
        for child in children.values():
            stop(child)
