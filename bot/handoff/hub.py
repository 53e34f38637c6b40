"""Live desk events for the consoles connected over WebSocket, in this process.

Each open console is a subscription: the agent (refreshed when their account changes) and the
session it belongs to. Ending a session or deactivating an agent ends their subscriptions at
once: they stop receiving events, no longer count as online, and their socket is told to close
(:data:`SESSION_ENDED`). Sockets also re-check their session every ``session_check_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from bot.accounts.agents import AgentInfo
from bot.handoff.access import may_see
from bot.handoff.store import Handoff

#: How often an open console's session is checked again (logout and deactivation: at once).
SESSION_CHECK_SECONDS = 30.0
#: The event that tells a console's socket to close: its session is over.
SESSION_ENDED: dict[str, Any] = {"type": "session_ended"}
QUEUE_SIZE = 200

Events = asyncio.Queue[dict[str, Any]]


@dataclass
class _Subscriber:
    agent: AgentInfo
    session: str | None


class ConsoleHub:
    """In-process fan-out of desk events to the consoles connected over WebSocket."""

    def __init__(self, session_check_seconds: float = SESSION_CHECK_SECONDS) -> None:
        self.session_check_seconds = session_check_seconds
        self._subscribers: dict[Events, _Subscriber] = {}

    def subscribe(self, agent: AgentInfo, session: str | None = None) -> Events:
        """A queue of the events ``agent`` may see; ``session`` is its ``session_key``."""
        queue: Events = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[queue] = _Subscriber(agent, session)
        return queue

    def unsubscribe(self, queue: Events) -> None:
        self._subscribers.pop(queue, None)

    def subscribed(self, queue: Events) -> bool:
        return queue in self._subscribers

    def refresh(self, agent: AgentInfo) -> None:
        """The agent's account changed (role, team): their consoles see what it now allows."""
        for subscriber in self._subscribers.values():
            if subscriber.agent.id == agent.id:
                subscriber.agent = agent

    def end(self, *, agent_id: int | None = None, session: str | None = None) -> int:
        """End the subscriptions of an agent (deactivated) or of one session (logged out);
        how many. Their sockets get :data:`SESSION_ENDED` and close."""
        ended = [
            queue
            for queue, s in self._subscribers.items()
            if (agent_id is not None and s.agent.id == agent_id)
            or (session is not None and s.session == session)
        ]
        for queue in ended:
            del self._subscribers[queue]
            _put(queue, SESSION_ENDED)
        return len(ended)

    def connected(self) -> set[int]:
        return {s.agent.id for s in self._subscribers.values()}

    def publish(self, event: dict[str, Any], handoff: Handoff) -> None:
        for queue, subscriber in list(self._subscribers.items()):
            if may_see(subscriber.agent, handoff):
                _put(queue, event)


def _put(queue: Events, event: dict[str, Any]) -> None:
    """Newest events win: a console that does not keep up loses the oldest (it refetches)."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(event)
