"""Live desk events for the consoles connected over WebSocket, across gateways.

Each open console is a subscription in the gateway that holds its socket: the agent (refreshed
when their account changes) and the session it belongs to. What happens on any gateway reaches
every console that may see it (``may_see``): events, a session that ends (logout, deactivation:
the socket is told to close, :data:`SESSION_ENDED`), an account that changes, and which
conversations people own (:meth:`ConsoleHub.announce_owner`). All of it goes through the bus
(``bot/storage/bus.py``, topic ``console``), at most once: after a gap each console here gets
:data:`RESYNC` (its socket closes, the page reconnects and refetches) and the gap listeners run
(the desk reloads who owns which conversation). Sockets also re-check their session every
``session_check_seconds``.

Presence: this gateway puts its agents in the bus's roster ``console`` — those with a console
open every :data:`HEARTBEAT_SECONDS` for :data:`CONSOLE_SECONDS`, those who made a request for
as long as the desk says (:meth:`ConsoleHub.present`). :meth:`ConsoleHub.elsewhere` is who the
other gateways have; a gateway killed stops counting after :data:`CONSOLE_SECONDS` (its consoles)
or the desk's online time (its requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.accounts.agents import AgentInfo, Role
from bot.handoff.access import may_see
from bot.handoff.store import Handoff, State
from bot.storage.bus import Bus, LocalBus

logger = logging.getLogger(__name__)

#: How often an open console's session is checked again (logout and deactivation: at once).
SESSION_CHECK_SECONDS = 30.0
#: The event that tells a console's socket to close: its session is over.
SESSION_ENDED: dict[str, Any] = {"type": "session_ended"}
#: The event that tells a console's socket to close so the page reconnects and refetches.
RESYNC: dict[str, Any] = {"type": "resync"}
QUEUE_SIZE = 200
TOPIC, ROSTER = "console", "console"
#: Open consoles are announced this often, each time for ``CONSOLE_SECONDS``.
HEARTBEAT_SECONDS, CONSOLE_SECONDS = 10.0, 30.0
#: A request marks its agent present again at most this often (they stay for longer).
PRESENT_AGAIN_SECONDS = 10.0

Events = asyncio.Queue[dict[str, Any]]
_MOMENTS = {f.name for f in dataclasses.fields(Handoff) if "datetime" in str(f.type)}


@dataclass
class _Subscriber:
    agent: AgentInfo
    session: str | None


class ConsoleHub:
    """Fan-out of desk events to the consoles connected over WebSocket, here and (through
    ``bus``, alone in this process by default) in the other gateways."""

    def __init__(
        self, bus: Bus | None = None, session_check_seconds: float = SESSION_CHECK_SECONDS
    ) -> None:
        self.session_check_seconds = session_check_seconds
        self.bus = bus or LocalBus()
        self._subscribers: dict[Events, _Subscriber] = {}
        self._owner_listeners: list[Callable[[int, int, bool], None]] = []
        self._ended_listeners: list[Callable[[int], None]] = []
        self._gap_listeners: list[Callable[[], None]] = []
        self._elsewhere: set[int] = set()
        self._presented: dict[int, float] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self.bus.subscribe(TOPIC, self._from_bus)
        self.bus.when_gap(self._after_gap)

    # --- consoles in this gateway -----------------------------------------------------------

    def subscribe(self, agent: AgentInfo, session: str | None = None) -> Events:
        """A queue of the events ``agent`` may see; ``session`` is its ``session_key``."""
        queue: Events = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[queue] = _Subscriber(agent, session)
        self.bus.present(ROSTER, str(agent.id), CONSOLE_SECONDS)
        return queue

    def unsubscribe(self, queue: Events) -> None:
        self._subscribers.pop(queue, None)

    def subscribed(self, queue: Events) -> bool:
        return queue in self._subscribers

    def connected(self) -> set[int]:
        """The agents with a console open in this gateway."""
        return {s.agent.id for s in self._subscribers.values()}

    def refresh(self, agent: AgentInfo) -> None:
        """The agent's account, read again here: their consoles here see what it allows."""
        for subscriber in self._subscribers.values():
            if subscriber.agent.id == agent.id:
                subscriber.agent = agent

    # --- everywhere ---------------------------------------------------------------------------

    def changed(self, agent: AgentInfo) -> None:
        """The agent's account changed (role, team): their consoles everywhere follow."""
        self.refresh(agent)
        self.bus.publish(TOPIC, {"kind": "agent", "agent": agent.public()})

    def end(
        self, *, agent_id: int | None = None, session: str | None = None, of: int | None = None
    ) -> int:
        """End, in every gateway, the subscriptions of an agent (deactivated) or of one session
        (logged out) of agent ``of``; how many here. Their sockets get :data:`SESSION_ENDED`
        and close; where the agent has no console left, the :meth:`when_ended` listeners run."""
        body = {"kind": "end", "agent_id": agent_id, "session": session, "of": of}
        self.bus.publish(TOPIC, body)
        return self._end(agent_id, session, of)

    def publish(self, event: dict[str, Any], handoff: Handoff) -> None:
        """``event`` about ``handoff`` to every console, in any gateway, that may see it."""
        self.bus.publish(TOPIC, {"kind": "event", "event": event, "handoff": _dump(handoff)})
        self._fan_out(event, handoff)

    def announce_owner(self, conversation_id: int, handoff_id: int, open_: bool) -> None:
        """Tell the other gateways that a handoff of a conversation opened (people own it) or
        closed (the assistant again)."""
        body = {"kind": "owner", "conversation": conversation_id, "handoff": handoff_id,
                "open": open_}  # fmt: skip
        self.bus.publish(TOPIC, body)

    def when_owner_changes(self, listener: Callable[[int, int, bool], None]) -> None:
        """Call ``listener(conversation_id, handoff_id, open)`` for another gateway's news."""
        self._owner_listeners.append(listener)

    def when_ended(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(agent_id)`` when sessions of an agent with no console left open
        here ended (here or elsewhere): they no longer count as online through this gateway."""
        self._ended_listeners.append(listener)

    def when_gap(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after news from the other gateways may have been missed."""
        self._gap_listeners.append(listener)

    # --- presence -----------------------------------------------------------------------------

    def present(self, agent_id: int, seconds: float) -> None:
        """The agent made a request here: the other gateways count them for ``seconds``."""
        now = time.monotonic()
        if now - self._presented.get(agent_id, -PRESENT_AGAIN_SECONDS) >= PRESENT_AGAIN_SECONDS:
            self._presented[agent_id] = now
            self.bus.present(ROSTER, str(agent_id), seconds)

    def elsewhere(self) -> set[int]:
        """The agents present in the other gateways, as last read (every heartbeat, and by
        :meth:`read_presence`)."""
        return set(self._elsewhere)

    async def read_presence(self) -> set[int]:
        """The agents present in the other gateways now (read from the bus)."""
        self._elsewhere = {int(m) for m in await self.bus.elsewhere(ROSTER) if m.isdigit()}
        return set(self._elsewhere)

    async def start(self) -> None:
        """Announce this gateway's consoles and read the others', every heartbeat."""
        await self.read_presence()
        self._heartbeat = asyncio.create_task(self._beat(), name="console-heartbeat")

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            for agent_id in self.connected():
                self.bus.present(ROSTER, str(agent_id), CONSOLE_SECONDS)
            await self.read_presence()

    # --- plumbing -----------------------------------------------------------------------------

    def _end(self, agent_id: int | None, session: str | None, of: int | None = None) -> int:
        ended = [
            queue
            for queue, s in self._subscribers.items()
            if (agent_id is not None and s.agent.id == agent_id)
            or (session is not None and s.session == session)
        ]
        agents = {self._subscribers[q].agent.id for q in ended}
        agents.update(a for a in (agent_id, of) if a is not None)
        for queue in ended:
            del self._subscribers[queue]
            _put(queue, SESSION_ENDED)
        for gone in agents - self.connected():
            self.bus.absent(ROSTER, str(gone))
            self._presented.pop(gone, None)
            for listener in self._ended_listeners:
                listener(gone)
        return len(ended)

    def _fan_out(self, event: dict[str, Any], handoff: Handoff) -> None:
        for queue, subscriber in list(self._subscribers.items()):
            if may_see(subscriber.agent, handoff):
                _put(queue, event)

    def _from_bus(self, body: dict[str, Any]) -> None:
        kind = body.get("kind")
        if kind == "event":
            self._fan_out(body["event"], _load(body["handoff"]))
        elif kind == "end":
            self._end(body.get("agent_id"), body.get("session"), body.get("of"))
        elif kind == "agent":
            a = body["agent"]
            self.refresh(AgentInfo(a["id"], a["username"], a["display_name"], Role(a["role"]),
                                   a["team"], a["active"]))  # fmt: skip
        elif kind == "owner":
            for listener in self._owner_listeners:
                listener(int(body["conversation"]), int(body["handoff"]), bool(body["open"]))

    def _after_gap(self) -> None:
        for queue in self._subscribers:
            _put(queue, RESYNC)
        for listener in self._gap_listeners:
            listener()


def _dump(handoff: Handoff) -> dict[str, Any]:
    values = dataclasses.asdict(handoff)
    for name in _MOMENTS:
        if values[name] is not None:
            values[name] = values[name].isoformat()
    values["state"] = handoff.state.value
    return values


def _load(values: dict[str, Any]) -> Handoff:
    values = dict(values)
    for name in _MOMENTS:
        if values.get(name) is not None:
            values[name] = dt.datetime.fromisoformat(values[name])
    values["state"] = State(values["state"])
    return Handoff(**values)


def _put(queue: Events, event: dict[str, Any]) -> None:
    """Newest events win: a console that does not keep up loses the oldest (it refetches)."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(event)
