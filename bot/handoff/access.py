"""Who sees which handoff at the desk.

Supervisors and admins see every handoff. An agent sees the queue of their team (to pick a chat)
and the chats they hold now or held when they were closed; a chat transferred away or reopened
by someone else is no longer theirs. What a visible handoff shows is only its own stretch of
the conversation (``HandoffStore.transcript``), never the citizen's other sessions.
"""

from __future__ import annotations

from bot.accounts.agents import AgentInfo, Role
from bot.handoff.store import Handoff, State


def may_see(agent: AgentInfo, handoff: Handoff) -> bool:
    """Whether ``agent`` may read ``handoff`` (its transcript, notes and live events)."""
    if agent.may(Role.SUPERVISOR):
        return True
    if handoff.state == State.PENDING:
        return agent.team is None or agent.team == handoff.team
    if handoff.state in (State.AGENT, State.CLOSED):
        return handoff.agent_id == agent.id
    return False  # a callback request being left: supervisors only
