"""Who is at the console, in every gateway: the part of the desk that keeps track of agents.

An agent counts as online for :data:`ONLINE_FOR` after their last request, and while a console
of theirs is open — in this gateway (its hub) or in another (the bus's presence roster, read by
``ConsoleHub.read_presence``; a killed gateway's agents stop counting when their time runs out).
Logging out or deactivating an agent closes their consoles in every gateway at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.accounts.agents import AgentInfo
from bot.handoff.hub import ConsoleHub

#: An agent counts as online this long after their last request or while their console is open.
ONLINE_FOR = dt.timedelta(minutes=2)


class DeskPresence:
    """Mixed into ``HandoffDesk`` (the app's ``ConsolePresence``): call :meth:`_track` once."""

    hub: ConsoleHub
    _clock: Callable[[], dt.datetime]

    def _track(self) -> None:
        self._seen: dict[int, dt.datetime] = {}
        self.hub.when_ended(self._forget)

    def agent_changed(self, agent: AgentInfo) -> None:
        """An account's role or team changed: its open consoles, anywhere, see what it allows."""
        self.hub.changed(agent)

    def seen(self, agent_id: int) -> None:
        """The agent made a request: online now (for the other gateways too)."""
        self._seen[agent_id] = self._clock()
        self.hub.present(agent_id, ONLINE_FOR.total_seconds())

    def sessions_ended(self, agent_id: int, session: str | None = None) -> None:
        """Close the open consoles, in every gateway, of one session (logged out) or, without
        ``session``, all of the agent's (deactivated, password changed); unless another console
        of theirs stays open, the agent no longer counts as online."""
        self.hub.end(agent_id=None if session else agent_id, session=session, of=agent_id)

    def _forget(self, agent_id: int) -> None:
        """The agent's sessions ended and no console of theirs is open in this gateway."""
        self._seen.pop(agent_id, None)

    def online(self) -> set[int]:
        """Agents who made a request within ``ONLINE_FOR`` or have a console open, in this
        gateway or (as last read) in the others."""
        now = self._clock()
        recent = {a for a, at in self._seen.items() if now - at <= ONLINE_FOR}
        return recent | self.hub.connected() | self.hub.elsewhere()

    async def online_now(self) -> set[int]:
        """:meth:`online`, with the other gateways' presence read now."""
        await self.hub.read_presence()
        return self.online()
