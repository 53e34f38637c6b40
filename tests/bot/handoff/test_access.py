"""Who may see a handoff: agents their team's queue and their own chats, supervisors and admins
all."""

from __future__ import annotations

import datetime as dt

from bot.accounts.agents import AgentInfo, Role
from bot.handoff.access import may_see
from bot.handoff.store import Handoff, State


def test_who_may_see_a_handoff() -> None:
    at = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)

    def handoff(state: State, holder: int | None, team: str = "orientacion") -> Handoff:
        return Handoff(1, 1, "webchat", "a", state, "pedido", team, None, None, holder, None,
                       at, None, None, None, None)  # fmt: skip

    ana = AgentInfo(1, "ana", "Ana", Role.AGENT, "orientacion", True)
    beto = AgentInfo(2, "beto", "Beto", Role.AGENT, "atencion", True)
    boss = AgentInfo(3, "jefa", "Jefa", Role.SUPERVISOR, None, True)
    admin = AgentInfo(4, "admin", "Admin", Role.ADMIN, None, True)
    for state in State:
        assert may_see(boss, handoff(state, 1)) and may_see(admin, handoff(state, 1))
    assert may_see(ana, handoff(State.PENDING, None)) and not may_see(
        beto, handoff(State.PENDING, None)
    )
    assert may_see(ana, handoff(State.AGENT, 1)) and not may_see(ana, handoff(State.AGENT, 2))
    assert may_see(ana, handoff(State.CLOSED, 1)) and not may_see(ana, handoff(State.CLOSED, 2))
    assert not may_see(ana, handoff(State.CALLBACK, None))
