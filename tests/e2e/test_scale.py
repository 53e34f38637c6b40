"""The scale path for real: Rasa's trackers in PostgreSQL, its locks in Redis, the gateway's
conversations in PostgreSQL. A conversation survives a restart of Rasa."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.scale_services import (
    REDIS_PORT,
    database_url,
    delete_broker_objects,
    engine_stores_environ,
    sql,
)
from tests.e2e.stack import Stack, stop

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")


def _redis_calls(command: str) -> int:
    stats = subprocess.run(
        ["redis-cli", "-p", REDIS_PORT, "INFO", "commandstats"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    match = re.search(rf"^cmdstat_{command}:calls=(\d+)", stats, re.MULTILINE)
    return int(match.group(1)) if match else 0


def test_conversation_survives_a_rasa_restart(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        **engine_stores_environ(database),
        # Rasa publishes every event (endpoints.scale.yml): to this test's own queue.
        "EVENT_BROKER_QUEUE": database,
        "EVENT_BROKER_EXCHANGE": database,
    }.items():
        monkeypatch.setenv(name, value)
    stack = Stack.on_free_ports(
        tmp_path,
        rasa_endpoints="endpoints.scale.yml",
        database_url=database_url(database),
    )
    children = stack.start_all()
    try:
        stack.wait_healthy()
        locks_before = _redis_calls("set")
        # First misunderstanding: "no te entendí" and the menu.
        first = stack.chat("escala", "fkdjsl qwpeoi zmxn")[0]["text"]
        assert first.startswith("Disculpa, no te entendí.")
        assert _redis_calls("set") > locks_before
        events = sql(
            database, "SELECT count(*) AS n FROM events WHERE sender_id = $1", "webchat:escala"
        )
        assert events[0]["n"] > 0

        # Rasa restarts: the tracker comes back from PostgreSQL, so the second
        # misunderstanding in a row is recognised as such (polite fallback).
        stop(children["rasa"])
        children["rasa"] = stack.start_rasa()
        stack.wait_healthy()
        assert stack.chat("escala", "xjq wwz kkp")[0]["text"] == KB.require("fallback").answer

        # The gateway's own record is in PostgreSQL too.
        rows = sql(database, "SELECT direction, status FROM messages ORDER BY id")
        assert [(r["direction"], r["status"]) for r in rows] == [
            ("in", "answered"), ("out", "sent"), ("in", "answered"), ("out", "sent"),
        ]  # fmt: skip
    finally:
        for child in children.values():
            stop(child)
        delete_broker_objects(database, database)
        for log in ("rasa.log", "gateway.log"):
            if (tmp_path / log).exists() and "Traceback" in (tmp_path / log).read_text():
                print((tmp_path / log).read_text()[-4000:])
