"""Rasa's events through the machine's RabbitMQ into the analytics tables, for real: Rasa with
endpoints.scale.yml (trackers in a fresh PostgreSQL database, locks in Redis, events to a queue of
this test's own), web chat messages through the gateway, ``python -m bot consume-events``
running: the analytics tables show the intents Rasa recognised, each message once."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bot.analytics.events import LIMA
from bot.ops.settings import ROOT
from tests.e2e.scale_services import (
    RABBITMQ_HOST,
    RABBITMQ_PORT,
    database_url,
    delete_broker_objects,
    engine_stores_environ,
    sql,
)
from tests.e2e.stack import Stack, stop

pytestmark = pytest.mark.e2e
MESSAGES = ["hola", "que es el ruc", "como obtengo mi clave sol", "gracias"]


def test_web_chat_messages_reach_the_analytics_tables_once(
    tmp_path: Path,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in engine_stores_environ(database).items():
        monkeypatch.setenv(name, value)
    suffix = uuid.uuid4().hex[:10]
    queue, exchange = f"e2e_events_{suffix}", f"e2e_exchange_{suffix}"
    stack = Stack.on_free_ports(
        tmp_path,
        rasa_endpoints="endpoints.scale.yml",
        database_url=database_url(database),
        event_broker_host=RABBITMQ_HOST,
        event_broker_port=RABBITMQ_PORT,
        event_broker_queue=queue,
        event_broker_exchange=exchange,
        log_level="INFO",
    )
    consumer_log = tmp_path / "consumer.log"
    children = stack.start_all()
    consumer = None
    try:
        stack.wait_healthy()
        with consumer_log.open("w") as out:
            consumer = subprocess.Popen(
                [sys.executable, "-m", "bot", "consume-events"],
                cwd=ROOT, env=stack.environ(), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        sender = f"analitica-{suffix}"
        for text in MESSAGES:
            assert stack.chat(sender, text)
        # What Rasa recognised, from its own tracker store.
        recognised = sql(
            database,
            "SELECT intent_name FROM events WHERE sender_id = $1 AND type_name = 'user'",
            f"webchat:{sender}",
        )
        expected: dict[str, int] = {}
        for row in recognised:
            expected[row["intent_name"]] = expected.get(row["intent_name"], 0) + 1
        assert sum(expected.values()) == len(MESSAGES)

        today = dt.datetime.now(LIMA).date()
        deadline = time.monotonic() + 60
        while True:
            rows = sql(
                database,
                "SELECT intent, messages FROM analytics_daily_intents WHERE day = $1",
                today,
            )
            counted = {row["intent"]: row["messages"] for row in rows}
            if counted == expected or time.monotonic() > deadline:
                break
            assert consumer.poll() is None, consumer_log.read_text()
            time.sleep(0.5)
        # nlu_fallback would be counted under its best intent; these questions are all sure.
        assert counted == expected, consumer_log.read_text()
        sessions = sql(
            database, "SELECT sessions FROM analytics_daily_sessions WHERE day = $1", today
        )
        assert sessions and sessions[0]["sessions"] >= 1
        actions = sql(
            database, "SELECT action, runs FROM analytics_daily_actions WHERE day = $1", today
        )
        assert sum(row["runs"] for row in actions) >= len(MESSAGES)
    finally:
        if consumer is not None and consumer.poll() is None:
            consumer.send_signal(signal.SIGTERM)
            consumer.wait(timeout=20)
        for child in children.values():
            stop(child)
        delete_broker_objects(queue, exchange)
        for log in ("rasa.log", "gateway.log"):
            if (tmp_path / log).exists() and "Traceback" in (tmp_path / log).read_text():
                print((tmp_path / log).read_text()[-4000:])
    # One summary line when it stops, with counts and never a citizen's words.
    logged = consumer_log.read_text()
    assert "events counted" in logged
    assert all(text not in logged for text in MESSAGES[1:])
