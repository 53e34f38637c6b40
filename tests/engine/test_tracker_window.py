"""Runs in the engine environment (make unit-engine): Rasa with the kept window answers a long
conversation exactly as with the whole history — the same replies turn by turn, through a
regime advisor form begun after many turns and answered around a side question, the repeated
question's handoff and two misunderstandings in a row — with the same slots; publishes every
event exactly once (messages and the gateway's appended handoff events); the same on the real
PostgreSQL, where a second engine continues the conversation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.server import update_conversation_with_events
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine.tracker_window import (
    FORM_TURNS,
    KEEP_TURNS,
    WindowInMemoryTrackerStore,
    WindowSQLTrackerStore,
    position,
    window,
)
from tests.engine import model_stack
from tests.engine.model_stack import ROOT

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
#: Rasa warns about its own deprecations while it loads a model and domain.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
#: The trained-model fixtures (tests/engine/model_stack.py).
loop, action_server, agent = model_stack.loop, model_stack.action_server, model_stack.agent

#: A long conversation with the load test's mix (data/nlu's phrasings), then the regime advisor
#: begun after many turns, answered around a side question, the same question three times (the
#: handoff by repetition) and two misunderstandings in a row.
CONVERSATION = [
    "hola", "como saco mi ruc", "cuanto cuesta sacar el ruc", "que es la clave sol",
    "me olvide mi clave sol", "cuando vence mi declaracion", "cuanto es la uit",
    "cuanto es el igv", "que es el nuevo rus", "diferencia entre boleta y factura",
    "desde que monto doy boleta", "como emito factura electronica", "gracias",
    "que regimen me conviene", "vendo unos 7 mil al mes", "que es la clave sol",
    "compro como 3 mil", "tengo una bodega", "nada", "solo yo",
    "cuanto es la uit", "cuanto es la uit", "cuanto es la uit",
    "fkdjsl qwpeoi zmxn", "xjq wwz kkp", "gracias causa", "chau",
]  # fmt: skip
#: What the gateway appends during a handoff (bot/handoff/service.py).
HANDOFF_EVENTS: List[Dict[str, Any]] = [
    {"event": "user", "text": "sigo esperando",
     "parse_data": {"intent": {"name": "handoff_message", "confidence": 1.0}, "entities": []},
     "metadata": {"handoff": True}},
    {"event": "action", "name": "action_listen"},
    {"event": "bot", "text": "Hola, le atiende Ana", "metadata": {"agent": "Ana"}},
]  # fmt: skip


class RecordingBroker(EventBroker):
    """Keeps what is published, in order."""

    def __init__(self) -> None:
        self.published: List[Dict[str, Any]] = []

    def publish(self, event: Dict[str, Any]) -> None:
        self.published.append(event)


def use(agent: Agent, store: TrackerStore) -> TrackerStore:
    store.domain = agent.domain
    agent.tracker_store = store
    assert agent.processor is not None
    agent.processor.tracker_store = store
    return store


def replies_of(messages: Optional[List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    return [{k: v for k, v in m.items() if k != "recipient_id"} for m in messages or []]


async def talk(agent: Agent, sender: str, texts: List[str]) -> List[List[Dict[str, Any]]]:
    """The conversation, then the gateway's handoff events appended as Rasa's HTTP API does."""
    replies = [replies_of(await agent.handle_text(text, sender_id=sender)) for text in texts]
    assert agent.processor is not None
    events = [Event.from_parameters(e) for e in HANDOFF_EVENTS]
    tracker = await update_conversation_with_events(sender, agent.processor, agent.domain, events)
    await agent.tracker_store.save(tracker)
    replies.append(replies_of(await agent.handle_text("gracias", sender_id=sender)))
    return replies


def kinds(published: List[Dict[str, Any]]) -> List[Tuple[str, Any]]:
    return [(e["event"], e.get("name") or e.get("text")) for e in published]


@pytest.fixture(scope="module")
def reference(agent: Agent, loop: asyncio.AbstractEventLoop) -> Dict[str, Any]:
    """The conversation on Rasa's own in-memory store, which keeps and replays everything."""
    broker = RecordingBroker()
    store = use(agent, InMemoryTrackerStore(agent.domain, broker))
    replies = loop.run_until_complete(talk(agent, "full", CONVERSATION))
    tracker = loop.run_until_complete(store.retrieve("full"))
    assert tracker is not None
    return {"replies": replies, "tracker": tracker, "published": broker.published}


def test_the_conversation_reaches_what_the_window_must_keep(reference: Dict[str, Any]) -> None:
    tracker: DialogueStateTracker = reference["tracker"]
    assert tracker.get_slot("ventas_mensuales") == 7000.0
    started = [i for i, e in enumerate(tracker.events) if isinstance(e, ActiveLoop) and e.name]
    assert started and started[0] > len(tracker.events) / 3  # the advisor after many turns
    assert sum(isinstance(e, UserUttered) for e in tracker.events) == len(CONVERSATION) + 2
    handoffs = [r for turn in reference["replies"] for r in turn if "handoff" in str(r)]
    assert handoffs, "the repeated question asks for a person"


@pytest.mark.parametrize("keep_turns", [3, KEEP_TURNS])
def test_same_replies_and_slots_as_the_whole_history(
    agent: Agent, loop: asyncio.AbstractEventLoop, reference: Dict[str, Any], keep_turns: int
) -> None:
    broker = RecordingBroker()
    store = use(agent, WindowInMemoryTrackerStore(agent.domain, broker, keep_turns=keep_turns))
    replies = loop.run_until_complete(talk(agent, "window", CONVERSATION))
    for turn, (ours, full) in enumerate(zip(replies, reference["replies"], strict=True)):
        assert ours == full, f"turn {turn + 1}: {CONVERSATION[turn : turn + 1]}"
    tracker = loop.run_until_complete(store.retrieve("window"))
    assert tracker is not None
    full: DialogueStateTracker = reference["tracker"]
    assert tracker.current_slot_values() == full.current_slot_values()
    assert tracker.active_loop_name == full.active_loop_name
    assert sum(isinstance(e, UserUttered) for e in tracker.events) <= keep_turns * FORM_TURNS
    assert position(tracker)[0] > 0  # the past was dropped
    # Every event published exactly once, as Rasa's own store publishes them.
    assert kinds(broker.published) == kinds(reference["published"])


def test_the_window_recreates_the_state_and_the_states_the_policies_see(
    agent: Agent, reference: Dict[str, Any]
) -> None:
    full: DialogueStateTracker = reference["tracker"]
    events = list(full.events)
    domain: Domain = agent.domain
    for end in range(len(events)):  # every prefix that ends listening, as stored after a save
        if not (isinstance(events[end - 1], ActionExecuted) and end > 30):
            continue
        prefix = DialogueStateTracker.from_events("s", events[:end], domain.slots)
        dropped, head, kept = window(prefix, domain, 4)
        rebuilt = DialogueStateTracker.from_events("s", head + kept, domain.slots)
        assert dropped + len(kept) == end
        assert rebuilt.current_slot_values() == prefix.current_slot_values()
        assert [s.has_been_set for s in rebuilt.slots.values()] == [
            s.has_been_set for s in prefix.slots.values()
        ]
        assert rebuilt.active_loop == prefix.active_loop or (
            rebuilt.active_loop_name == prefix.active_loop_name
        )
        assert rebuilt.latest_action == prefix.latest_action
        # MemoizationPolicy looks back 5 states, the rules fewer.
        assert rebuilt.past_states(domain)[-5:] == prefix.past_states(domain)[-5:]


def test_a_new_window_counts_events_appended_in_one_save() -> None:
    domain = Domain.from_path(ROOT / "domain.yml")
    broker = RecordingBroker()
    store = WindowInMemoryTrackerStore(domain, broker, keep_turns=2)
    events: List[Event] = []
    for n in range(6):
        events += [ActionExecuted("action_listen"), UserUttered(f"m{n}"), BotUttered(f"r{n}")]
    tracker = DialogueStateTracker.from_events("s", events, domain.slots)
    asyncio.run(store.save(tracker))
    assert [e.get("text") for e in broker.published if e["event"] != "action"] == [
        t for n in range(6) for t in (f"m{n}", f"r{n}")
    ]
    stored = asyncio.run(store.retrieve("s"))
    assert stored is not None
    dropped, length = position(stored)
    assert dropped == 13  # the events before the last two turns, from m4 on
    assert [getattr(e, "text", None) for e in list(stored.events)[length:]] == [
        "m4", "r4", None, "m5", "r5"
    ]  # fmt: skip


@pytest.fixture()
def database() -> Iterator[str]:
    """An own PostgreSQL database, dropped afterwards."""
    name = f"test_tracker_window_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sql_store(database: str, domain: Domain, broker: EventBroker) -> WindowSQLTrackerStore:
    return WindowSQLTrackerStore(
        domain, dialect="postgresql", host="127.0.0.1", port=5432, db=database,
        username="postgres", event_broker=broker, keep_turns=KEEP_TURNS,
    )  # fmt: skip


def test_on_postgresql_the_same_and_a_second_engine_continues(
    agent: Agent, loop: asyncio.AbstractEventLoop, reference: Dict[str, Any], database: str
) -> None:
    broker = RecordingBroker()
    first = sql_store(database, agent.domain, broker)
    second = sql_store(database, agent.domain, broker)
    try:
        half = len(CONVERSATION) // 2 + 2  # mid-form
        use(agent, first)
        replies = [
            replies_of(loop.run_until_complete(agent.handle_text(t, sender_id="pg")))
            for t in CONVERSATION[:half]
        ]
        use(agent, second)  # another engine on the same database
        replies += loop.run_until_complete(talk(agent, "pg", CONVERSATION[half:]))
        assert replies == reference["replies"]
        assert kinds(broker.published) == kinds(reference["published"])
        tracker = loop.run_until_complete(first.retrieve("pg"))
        assert tracker is not None
        full: DialogueStateTracker = reference["tracker"]
        assert tracker.current_slot_values() == full.current_slot_values()
        with first.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT count(*) FROM events WHERE sender_id = 'pg'")
            ).scalar()
        assert rows == len(tracker.events) - position(tracker)[1]
        assert rows < len(full.events) / 2
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_on_postgresql_a_restart_between_messages_loses_nothing(database: str) -> None:
    """PostgreSQL closes every connection (as a restart does) between two saves: the next read
    and write each take a new connection and succeed; nothing is lost or published twice."""
    domain = Domain.from_path(ROOT / "domain.yml")
    broker = RecordingBroker()
    store = sql_store(database, domain, broker)
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        events: List[Event] = [ActionExecuted("action_listen"), UserUttered("m0"), BotUttered("r0")]
        asyncio.run(store.save(DialogueStateTracker.from_events("s", events, domain.slots)))
        with admin.connect() as connection:  # every pooled connection of the store, gone
            closed = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            ).scalar()
        assert closed and closed >= 1
        stored = asyncio.run(store.retrieve("s"))
        assert stored is not None and [getattr(e, "text", None) for e in stored.events] == [
            None, "m0", "r0"
        ]  # fmt: skip
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            )
        events += [ActionExecuted("action_listen"), UserUttered("m1"), BotUttered("r1")]
        asyncio.run(store.save(DialogueStateTracker.from_events("s", events, domain.slots)))
        assert [e.get("text") for e in broker.published if e["event"] != "action"] == [
            "m0", "r0", "m1", "r1"
        ]  # fmt: skip
    finally:
        store.engine.dispose()
        admin.dispose()
