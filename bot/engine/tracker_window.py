"""Rasa's tracker stores with a kept window: a message's cost does not grow with the past.

Rasa rebuilds a conversation's tracker for every message by replaying all its events, then its
policies featurise every one of them (``past_states``, ``applied_events``), the whole event
list goes to the action server with each action, and the in-memory store serialises it all
again: measured, 100-turn conversations ran at a fifth of the throughput of 5-turn ones. What
the engine needs of the past is the conversation's state — the slots (values, and whether they
were set), the active form (and whether it was rejected), a pause — and the last turns: the
policies look back a few states (MemoizationPolicy's ``max_history``, the rules' length), the
actions look at the latest user messages (the repeated-question handoff counts three).

**The kept window.** A stored conversation is a *prelude* that recreates the state the
conversation had at the start of its last ``keep_turns`` user turns, then those turns' events
as they happened. The prelude has the shape of a Rasa session start that carries state over:
``action_session_start``, ``session_started`` (its metadata says how many of the
conversation's events are no longer kept, and the prelude's length), one ``slot`` event per
slot that was set, ``active_loop`` (and ``action_execution_rejected``) for an active form,
``pause`` for a paused conversation, then the latest action (``action_listen``). Replaying
prelude + window gives the tracker the same slots, form and latest action as replaying the
whole conversation, and the same states over the window; the form's trigger message is not
kept (no slot mapping uses ``from_trigger_intent``). The window is cut only at a user turn, and
counts the turns the policies see (``applied_events``): while a form runs, Rasa hides its turns
between two of its runs and shows the turn that started it, so that turn and those before it
stay (up to ``FORM_TURNS`` times ``keep_turns`` turns). Over the window the policies then see the
same states as with the whole history. The gateway keeps the full transcript; Rasa need not.

**New events, exactly once.** Rasa's stores find an event broker's new events by comparing
event counts with what ``retrieve`` returns; here each save counts in the conversation's own
numbering (the prelude's metadata says where the tracker's first kept event is in it), so every
new event is published exactly once, after it is stored, however the window moved meanwhile
(a message, a handoff's ``POST /conversations/{id}/tracker/events``). A tracker without a
prelude (a new conversation, ``PUT …/tracker/events``) counts from the conversation's start, as
Rasa does.

Two stores, in endpoints files as ``tracker_store: type: bot.engine.tracker_window.<Class>``
with an optional ``keep_turns`` (default :data:`KEEP_TURNS`):

- :class:`WindowInMemoryTrackerStore`: embedded, one process (endpoints.yml);
- :class:`WindowSQLTrackerStore`: Rasa's SQL store's ``events`` table (same settings as
  ``type: SQL``); events before the window are deleted when it moves, and the prelude is kept in
  ``tracker_windows`` (one row per conversation), in the same transaction. Several engines may
  share it (the lock store serialises a conversation's messages).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Text, Tuple, TypeVar

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.ext.declarative import declarative_base

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: User turns kept by default: more than the policies and the actions look back.
KEEP_TURNS = 8
#: At most this many times ``keep_turns`` user turns are kept, even while a form runs.
FORM_TURNS = 4
#: Where the prelude's ``session_started`` says what it stands for.
WINDOW_KEY = "kept_window"


def position(tracker: DialogueStateTracker) -> Tuple[int, int]:
    """``(dropped, prelude)``: the conversation's events no longer kept, and the length of the
    tracker's prelude; the tracker's event ``prelude + i`` is the conversation's ``dropped + i``.
    ``(0, 0)`` for a tracker without a prelude."""
    for event in list(tracker.events)[:2]:
        if isinstance(event, SessionStarted) and isinstance(event.metadata, dict):
            window = event.metadata.get(WINDOW_KEY)
            if isinstance(window, dict):
                return int(window["dropped"]), int(window["prelude"])
    return 0, 0


def prelude(tracker: DialogueStateTracker, dropped: int) -> List[Event]:
    """Events that recreate ``tracker``'s state: slots, active form, pause, latest action."""
    events: List[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    events += [SlotSet(s.name, s.value) for s in tracker.slots.values() if s.has_been_set]
    loop = tracker.active_loop
    if loop is not None and loop.name:
        events.append(ActiveLoop(loop.name))
        if loop.rejected:
            events.append(ActionExecutionRejected(loop.name))
    if tracker.is_paused():
        events.append(ConversationPaused())
    name, text = (tracker.latest_action or {}).get("action_name"), None
    if not name:
        text = (tracker.latest_action or {}).get("action_text")
        name = None if text else ACTION_LISTEN_NAME
    events.append(ActionExecuted(name, action_text=text))
    events[1].metadata = {WINDOW_KEY: {"dropped": dropped, "prelude": len(events)}}
    return events


def window(
    tracker: DialogueStateTracker, domain: Domain, keep_turns: int
) -> Tuple[int, List[Event], List[Event]]:
    """``(dropped, prelude, kept)`` of ``tracker``, cut before the ``keep_turns``-th last user
    turn the policies see (``applied_events``: a form's turns between two of its runs are not
    seen, so a form's start stays in the window while it runs), or before the
    ``keep_turns × FORM_TURNS``-th last turn of any kind; unchanged when it has no more."""
    dropped, length = position(tracker)
    events = list(tracker.events)
    kept = events[length:]
    turns = [i for i, event in enumerate(kept) if isinstance(event, UserUttered)]
    if len(turns) <= keep_turns:  # the policies see no more turns than there are
        return dropped, events[:length], kept
    seen = {id(event) for event in tracker.applied_events() if isinstance(event, UserUttered)}
    applied = [i for i in turns if id(kept[i]) in seen]
    cut = applied[-keep_turns] if len(applied) > keep_turns else 0
    if len(turns) > keep_turns * FORM_TURNS:
        cut = max(cut, turns[-keep_turns * FORM_TURNS])
    if cut == 0:
        return dropped, events[:length], kept
    before = DialogueStateTracker.from_events(
        tracker.sender_id, events[: length + cut], domain.slots
    )
    return dropped + cut, prelude(before, dropped + cut), kept[cut:]


def new_events(tracker: DialogueStateTracker, stored: int) -> List[Event]:
    """The events of ``tracker`` after the conversation's first ``stored`` ones."""
    dropped, length = position(tracker)
    events = list(tracker.events)
    return events[length + max(0, stored - dropped) :]


def publish(broker: Optional[EventBroker], sender_id: Text, events: Iterable[Event]) -> None:
    if broker is None:
        return
    for event in events:
        broker.publish({"sender_id": sender_id, **event.as_dict()})


class WindowInMemoryTrackerStore(InMemoryTrackerStore):
    """In-memory conversations of prelude + kept window (module docstring)."""

    def __init__(
        self,
        domain: Domain,
        event_broker: Optional[EventBroker] = None,
        keep_turns: int = KEEP_TURNS,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url, which this store has none of
        super().__init__(domain, event_broker, **kwargs)
        self.keep_turns = int(keep_turns)
        #: Per conversation: how many of its events there have been (kept or not).
        self.counts: Dict[Text, int] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        fresh = new_events(tracker, self.counts.get(tracker.sender_id, 0))
        dropped, head, kept = window(tracker, self.domain, self.keep_turns)
        events = [event.as_dict() for event in head + kept]
        self.store[tracker.sender_id] = json.dumps(events)
        self.counts[tracker.sender_id] = dropped + len(kept)
        publish(self.event_broker, tracker.sender_id, fresh)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        stored = self.store.get(sender_id)
        if stored is None:
            return None
        return DialogueStateTracker.from_dict(sender_id, json.loads(stored), self.domain.slots)

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """All that is kept: the prelude and the window."""
        return await self.retrieve(sender_id)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Not used: :meth:`save` publishes the new events itself."""


WindowBase: Any = declarative_base()


class TrackerWindow(WindowBase):  # type: ignore[misc]
    """A conversation's prelude and how many of its events were dropped before the window."""

    __tablename__ = "tracker_windows"
    sender_id = sa.Column(sa.String(255), primary_key=True)
    dropped = sa.Column(sa.Integer, nullable=False)
    prelude = sa.Column(sa.Text, nullable=False)


class WindowSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL store (same settings) of prelude + kept window (module docstring)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        keep_turns: int = KEEP_TURNS,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, **kwargs)
        self.keep_turns = int(keep_turns)
        try:
            WindowBase.metadata.create_all(self.engine)
        except (sa.exc.ProgrammingError, sa.exc.IntegrityError) as error:
            # Engines started together race to create the table: one of them does.
            logger.warning("tracker_windows not created here: %s", type(error).__name__)

    def _stored(
        self, session: Any, sender_id: Text, *columns: Any
    ) -> Tuple[Optional[TrackerWindow], List[Any]]:
        """The conversation's window row and its events' ``columns``, in order."""
        row = session.get(TrackerWindow, sender_id)
        events = (
            session.query(*columns)
            .filter(self.SQLEvent.sender_id == sender_id)
            .order_by(self.SQLEvent.id)
            .all()
        )
        return row, events

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        row, rows = self._reconnecting(lambda: self._read(sender_id))
        if row is None and not rows:
            return None
        events = json.loads(row.prelude) if row is not None else []
        events += [json.loads(data) for (data,) in rows]
        domain = self.domain or Domain.empty()
        return DialogueStateTracker.from_dict(sender_id, events, domain.slots)

    def _read(self, sender_id: Text) -> Tuple[Optional[TrackerWindow], List[Any]]:
        with self.session_scope() as session:
            return self._stored(session, sender_id, self.SQLEvent.data)

    def _reconnecting(self, work: Callable[[], T]) -> T:
        """``work`` (one transaction); once more when PostgreSQL had closed the connection it
        took from the pool (a restart): the pool is then emptied, the second try connects anew."""
        try:
            return work()
        except sa.exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
            logger.warning("tracker store: the database had closed its connections; again")
            return work()

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        """All that is kept: the prelude and the window."""
        return await self.retrieve(conversation_id)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Not used: :meth:`save` publishes the new events itself."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        fresh = self._reconnecting(lambda: self._write(tracker))
        publish(self.event_broker, tracker.sender_id, fresh)

    def _write(self, tracker: DialogueStateTracker) -> List[Event]:
        """Store the tracker's new events, moving the window; the new events."""
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            row, rows = self._stored(session, sender_id, self.SQLEvent.id)
            already = row.dropped if row is not None else 0
            stored = already + len(rows)
            fresh = new_events(tracker, stored)
            dropped, head, _ = window(tracker, self.domain or Domain.empty(), self.keep_turns)
            # The conversation's event ``stored + i`` is ``fresh[i]``: those before the window
            # are published but not stored, the stored ones before it are deleted.
            kept = [self._row(sender_id, event) for event in fresh[max(0, dropped - stored) :]]
            if kept:  # one INSERT of them all (the ORM would send one per event)
                session.execute(self.SQLEvent.__table__.insert(), kept)
            if dropped > already:
                gone = [event_id for (event_id,) in rows[: dropped - already]]
                session.query(self.SQLEvent).filter(self.SQLEvent.id.in_(gone)).delete(
                    synchronize_session=False
                )
                text = json.dumps([event.as_dict() for event in head])
                if row is None:
                    session.add(TrackerWindow(sender_id=sender_id, dropped=dropped, prelude=text))
                else:
                    row.dropped, row.prelude = dropped, text
            session.commit()
        return fresh

    def _row(self, sender_id: Text, event: Event) -> Dict[str, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
